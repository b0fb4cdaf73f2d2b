// Talking to the Champion Clone API: the bearer token, JSON calls, uploads with progress,
// ingest progress as server-sent events, and authenticated media.

const TOKEN_KEY = "championclone.token";
const EMAIL_KEY = "championclone.email";

/** An API failure with the server's own message (`detail`), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const UNREACHABLE = "Cannot reach the server. Check that it is running, then try again.";

/** The signed-in user's token, kept for this browser tab's session only. */
export const session = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get email(): string | null {
    return sessionStorage.getItem(EMAIL_KEY);
  },
  signIn(token: string, email: string): void {
    mediaCookie = null;
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(EMAIL_KEY, email);
    window.dispatchEvent(new Event("auth-changed"));
  },
  signOut(reason?: string): void {
    mediaCookie = null;
    fetch("/auth/media-cookie", { method: "DELETE" }).catch(() => undefined);
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(EMAIL_KEY);
    window.dispatchEvent(new CustomEvent("auth-changed", { detail: reason }));
  },
};

function authHeaders(extra: Record<string, string> = {}): Headers {
  const headers = new Headers(extra);
  const token = session.token;
  if (token) headers.set("Authorization", `Bearer ${token}`);
  return headers;
}

/** The server's messages start in lower case; shown alone, they read better as sentences. */
function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

async function failure(response: Response): Promise<ApiError> {
  let message = `The server answered ${response.status}.`;
  try {
    const body = await response.json();
    if (body && typeof body.detail === "string") message = sentence(body.detail);
  } catch {
    // not JSON: keep the status line
  }
  if (response.status === 401 && session.token) {
    session.signOut("Your session has expired. Please sign in again.");
  }
  return new ApiError(response.status, message);
}

/** A JSON request; resolves with the parsed body (undefined for 204). */
export async function api<T>(
  path: string,
  options: { method?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  const headers = authHeaders(options.body === undefined ? {} : { "Content-Type": "application/json" });
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? (options.body === undefined ? "GET" : "POST"),
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, UNREACHABLE);
  }
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Uploads a file as multipart form data, reporting the bytes sent (0-1). */
export function upload<T>(
  path: string,
  form: FormData,
  onProgress: (fraction: number) => void,
): { done: Promise<T>; abort: () => void } {
  const request = new XMLHttpRequest();
  const done = new Promise<T>((resolve, reject) => {
    request.open("POST", path);
    const token = session.token;
    if (token) request.setRequestHeader("Authorization", `Bearer ${token}`);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      let body: { detail?: unknown } | null = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        body = null;
      }
      if (request.status >= 200 && request.status < 300) {
        resolve(body as T);
        return;
      }
      if (request.status === 401 && session.token) {
        session.signOut("Your session has expired. Please sign in again.");
      }
      const detail = body && typeof body.detail === "string" ? sentence(body.detail) : null;
      reject(new ApiError(request.status, detail ?? `The upload failed (${request.status}).`));
    };
    request.onerror = () => reject(new ApiError(0, UNREACHABLE));
    request.onabort = () => reject(new ApiError(0, "The upload was cancelled."));
    request.send(form);
  });
  return { done, abort: () => request.abort() };
}

/**
 * Reads a server-sent event stream with the bearer token (EventSource cannot send headers)
 * and calls `onEvent` with each event's name and parsed data. Resolves when the stream ends.
 */
export async function readEvents(
  path: string,
  onEvent: (event: string, data: unknown) => void,
  signal: AbortSignal,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(path, { headers: authHeaders({ Accept: "text/event-stream" }), signal });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") return;
    throw new ApiError(0, UNREACHABLE);
  }
  if (!response.ok || !response.body) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    let chunk: ReadableStreamReadResult<string>;
    try {
      chunk = await reader.read();
    } catch (error) {
      if (signal.aborted) return;
      throw new ApiError(0, UNREACHABLE);
    }
    if (chunk.done) return;
    buffer += chunk.value;
    let boundary: number;
    while ((boundary = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      let name = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    }
  }
}

let mediaCookie: Promise<void> | null = null;

/**
 * Media for an `<audio>` element, which cannot send the bearer token: the server sets an
 * HttpOnly cookie good only for recordings (once per sign-in), and the element streams the
 * URL itself, seeking with range requests. Resolves with the URL, or rejects with the reason
 * when the media is not there (a one-byte probe says so before the element tries).
 */
export async function mediaUrl(path: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    mediaCookie ??= api<void>("/auth/media-cookie", { method: "POST" }).catch((error) => {
      mediaCookie = null;
      throw error;
    });
    await mediaCookie;
    let response: Response;
    try {
      response = await fetch(path, { headers: { Range: "bytes=0-0" } });
    } catch {
      throw new ApiError(0, UNREACHABLE);
    }
    if (response.ok) {
      await response.body?.cancel();
      return path;
    }
    // Another tab signed out (the cookie is per browser, the token per tab): ask again once.
    if (response.status === 401 && attempt === 0) {
      await response.body?.cancel();
      mediaCookie = null;
      continue;
    }
    const body = await response.json().catch(() => null);
    const detail = body && typeof body.detail === "string" ? sentence(body.detail) : null;
    throw new ApiError(response.status, detail ?? `The server answered ${response.status}.`);
  }
}

/** True when the server answers its health check. */
export async function serverUp(): Promise<boolean> {
  try {
    const response = await fetch("/health", { cache: "no-store" });
    return response.ok;
  } catch {
    return false;
  }
}
