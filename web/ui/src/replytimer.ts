// How long the trainee waited for each reply, measured where they hear it: from the last moment
// their microphone carried speech to the first sound of the bot's reply.

const SPEECH_LEVEL = 0.02; // RMS of samples in [-1, 1]; room noise stays well below
const QUIET_BEFORE_REPLY_MS = 250; // the bot is silent this long before a reply starts
const STILL_SPEAKING_MS = 200; // speech this recent means the trainee is still talking
const EVERY_MS = 10;

/**
 * Which replies have a wait that can be measured, and how long it was: the decisions of
 * `ReplyTimer`, apart from the audio so they can be followed (and tested) step by step.
 *
 * A reply is timed only when all of these hold, so a figure is either right or absent:
 * - the server ended the trainee's turn after the previous reply began (one figure per turn);
 * - the microphone carried speech after the previous reply began (the end of speech we have
 *   belongs to this turn, not an older one);
 * - the trainee said nothing after the server ended their turn, and not in the last moments
 *   before the reply (they were not still talking as it started);
 * - the bot was already quiet when the turn ended (the sound is a new reply, not the rest of
 *   the one before after a pause).
 */
export class ReplyClock {
  private lastSpeech: number | null = null;
  private turnEndedAt: number | null = null;
  private previousReply = -Infinity;
  private botQuietSince: number | null = -Infinity;

  /** The microphone at `now` (ms): carrying speech or not. */
  heardMic(now: number, speech: boolean): void {
    if (speech) this.lastSpeech = now;
  }

  /** The server ended the trainee's turn; the message reached the browser at `now`. */
  turnEnded(now: number): void {
    this.turnEndedAt = now;
  }

  /**
   * The bot's audio at `now`: sounding or not.
   *
   * @returns The wait in ms when a timed reply starts at `now`; otherwise null.
   */
  heardBot(now: number, sound: boolean): number | null {
    if (!sound) {
      this.botQuietSince ??= now;
      return null;
    }
    const quietSince = this.botQuietSince;
    this.botQuietSince = null;
    if (quietSince === null || now - quietSince < QUIET_BEFORE_REPLY_MS) return null;
    // A reply starts: whatever is known about the trainee's turn is used up by it.
    const previous = this.previousReply;
    const ended = this.turnEndedAt;
    const spoke = this.lastSpeech;
    this.previousReply = now;
    this.turnEndedAt = null;
    if (ended === null) return null; // no end of a turn since the previous reply
    if (spoke === null || spoke <= previous) return null; // no speech since the last reply
    if (spoke >= ended || now - spoke < STILL_SPEAKING_MS) return null; // still talking
    if (quietSince > ended) return null; // the bot was mid-reply when the turn ended
    return now - spoke;
  }
}

function level(analyser: AnalyserNode, buffer: Float32Array<ArrayBuffer>): number {
  analyser.getFloatTimeDomainData(buffer);
  let sum = 0;
  for (const sample of buffer) sum += sample * sample;
  return Math.sqrt(sum / buffer.length);
}

/** Samples the microphone and the bot's audio every few ms and reports each timed reply. */
export class ReplyTimer {
  private readonly context = new AudioContext();
  private mic: AnalyserNode | null = null;
  private bot: AnalyserNode | null = null;
  private readonly buffer = new Float32Array(512);
  private readonly timer: number;
  private readonly clock = new ReplyClock();

  /** `report` gets a reply's wait in ms, at most once per trainee turn (see `ReplyClock`). */
  constructor(private readonly report: (ms: number) => void) {
    this.timer = window.setInterval(() => this.tick(), EVERY_MS);
  }

  watchMic(track: MediaStreamTrack): void {
    this.mic = this.analyser(track);
  }

  watchBot(track: MediaStreamTrack): void {
    this.bot = this.analyser(track);
  }

  /** The server heard the trainee's turn end: the next reply may be timed. */
  userTurnEnded(): void {
    this.clock.turnEnded(performance.now());
  }

  stop(): void {
    window.clearInterval(this.timer);
    this.context.close().catch(() => undefined);
  }

  private analyser(track: MediaStreamTrack): AnalyserNode {
    const node = this.context.createAnalyser();
    node.fftSize = this.buffer.length;
    this.context.createMediaStreamSource(new MediaStream([track])).connect(node);
    return node;
  }

  private tick(): void {
    const now = performance.now();
    if (this.mic) this.clock.heardMic(now, level(this.mic, this.buffer) > SPEECH_LEVEL);
    if (!this.bot) return;
    const waited = this.clock.heardBot(now, level(this.bot, this.buffer) > SPEECH_LEVEL);
    if (waited !== null) this.report(waited);
  }
}
