// A live voice call over SmallWebRTC with the official Pipecat client, and the microphone check.
import { PipecatClient } from "@pipecat-ai/client-js";
import { SmallWebRTCTransport, WavMediaManager } from "@pipecat-ai/small-webrtc-transport";

import { api, serverUp, session } from "./api";
import { ReplyTimer } from "./replytimer";

export interface VoiceEvents {
  onLive(): void;
  onLost(reason: string): void;
  onUserSpeaking(speaking: boolean): void;
  onBotSpeaking(speaking: boolean): void;
  onUserTranscript(text: string, final: boolean): void;
  onBotText(text: string): void;
  onServerMessage(data: unknown): void;
  /** How long the trainee waited for a reply, as heard in the browser. */
  onReplyHeard(ms: number): void;
}

/** Why the microphone cannot be used, in words a person can act on; null when it can. */
export async function microphoneProblem(): Promise<string | null> {
  if (!navigator.mediaDevices?.getUserMedia) {
    return "This browser does not allow the microphone on this page (it needs https or localhost).";
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    stream.getTracks().forEach((track) => track.stop());
    return null;
  } catch (error) {
    const name = error instanceof DOMException ? error.name : "";
    if (name === "NotAllowedError" || name === "SecurityError") {
      return "Microphone access was denied. Allow the microphone for this site in your browser's settings, then try again — or practise by text.";
    }
    if (name === "NotFoundError" || name === "OverconstrainedError") {
      return "No microphone was found. Connect one and try again — or practise by text.";
    }
    if (name === "NotReadableError") {
      return "The microphone is in use by another program. Close it and try again.";
    }
    return `The microphone could not be opened (${name || String(error)}).`;
  }
}

const HEALTH_EVERY_MS = 2000;

/** One connection of a session's voice call; `hangUp` ends it, `onLost` reports a broken one. */
export class VoiceCall {
  private readonly client: PipecatClient;
  private readonly audio: HTMLAudioElement;
  private ended = false;
  private healthTimer: number | undefined;
  private healthFailures = 0;
  private readonly segments = new Set<number>();
  private readonly timer: ReplyTimer;
  // The browser's figure for the reply to the latest turn, sent once the server's own figure
  // for it has arrived: the server has stored its figure by then, and ours completes it.
  private heard: number | null = null;
  private serverTimed = false;

  constructor(
    private readonly sessionId: string,
    private readonly events: VoiceEvents,
  ) {
    this.audio = document.createElement("audio");
    this.audio.autoplay = true;
    // The browser's own figure becomes the turn's latency on the server too.
    this.timer = new ReplyTimer((ms) => {
      this.heard = ms;
      this.reportHeard();
      events.onReplyHeard(ms);
    });
    this.client = new PipecatClient({
      // WavMediaManager uses plain getUserMedia; the default one loads a library from a CDN.
      transport: new SmallWebRTCTransport({ mediaManager: new WavMediaManager() }),
      enableMic: true,
      enableCam: false,
      callbacks: {
        onBotReady: () => events.onLive(),
        onTrackStarted: (track, participant) => {
          if (track.kind === "audio" && !participant?.local) {
            this.audio.srcObject = new MediaStream([track]);
            this.audio.play().catch(() => undefined);
            this.timer.watchBot(track);
          }
        },
        onUserStartedSpeaking: () => events.onUserSpeaking(true),
        onUserStoppedSpeaking: () => {
          this.timer.userTurnEnded();
          this.heard = null;
          this.serverTimed = false;
          events.onUserSpeaking(false);
        },
        onBotStartedSpeaking: () => events.onBotSpeaking(true),
        onBotStoppedSpeaking: () => events.onBotSpeaking(false),
        onUserTranscript: (data) => events.onUserTranscript(data.text, data.final),
        onBotOutput: (data) => {
          // Each sentence comes when it is queued and again when it has been spoken.
          const segment = data.segment_id;
          if (segment !== undefined && this.segments.has(segment)) return;
          if (segment !== undefined) this.segments.add(segment);
          events.onBotText(data.text);
        },
        onServerMessage: (data) => {
          if ((data as { type?: string } | null)?.type === "turn-latency") {
            this.serverTimed = true;
            this.reportHeard();
          }
          events.onServerMessage(data);
        },
        onDisconnected: () => this.lost("The call was disconnected."),
        onTransportStateChanged: (state) => {
          if (state === "error") this.lost("The call's connection failed.");
        },
      },
    });
  }

  async connect(): Promise<void> {
    // STUN/TURN servers (ICE_SERVERS): how the call crosses NAT from another network.
    const ice = await api<{ ice_servers: RTCIceServer[] }>(
      `/training/sessions/${this.sessionId}/ice-servers`,
    );
    if (this.ended) return;
    const headers = new Headers({ Authorization: `Bearer ${session.token ?? ""}` });
    await this.client.connect({
      webrtcRequestParams: { endpoint: `/training/sessions/${this.sessionId}/offer`, headers },
      iceConfig: { iceServers: ice.ice_servers },
    });
    if (this.ended) {
      // hung up (or lost) while connecting: leave nothing running
      await this.client.disconnect().catch(() => undefined);
      return;
    }
    const mic = this.client.tracks().local.audio;
    if (mic) this.timer.watchMic(mic);
    this.healthTimer = window.setInterval(() => this.checkServer(), HEALTH_EVERY_MS);
  }

  mute(muted: boolean): void {
    this.client.enableMic(!muted);
  }

  async hangUp(): Promise<void> {
    this.stop();
    await this.client.disconnect().catch(() => undefined);
  }

  private reportHeard(): void {
    if (this.heard === null || !this.serverTimed || this.ended) return;
    this.client.sendClientMessage("turn-latency", { latency_ms: Math.round(this.heard) });
    this.heard = null;
  }

  private async checkServer(): Promise<void> {
    if (this.ended) return;
    if (await serverUp()) {
      this.healthFailures = 0;
      return;
    }
    this.healthFailures += 1;
    if (this.healthFailures >= 2) this.lost("Lost the connection to the server.");
  }

  private lost(reason: string): void {
    if (this.ended) return;
    this.stop();
    this.client.disconnect().catch(() => undefined);
    this.events.onLost(reason);
  }

  private stop(): void {
    this.ended = true;
    window.clearInterval(this.healthTimer);
    this.timer.stop();
    this.audio.srcObject = null;
  }
}
