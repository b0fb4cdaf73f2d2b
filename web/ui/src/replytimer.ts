// How long the trainee waited for each reply, measured where they hear it: from the last moment
// their microphone carried speech to the first sound of the bot's reply.

const SPEECH_LEVEL = 0.02; // RMS of samples in [-1, 1]; room noise stays well below
const QUIET_BEFORE_REPLY_MS = 250; // the bot is silent this long before a reply starts
const EVERY_MS = 10;

function level(analyser: AnalyserNode, buffer: Float32Array<ArrayBuffer>): number {
  analyser.getFloatTimeDomainData(buffer);
  let sum = 0;
  for (const sample of buffer) sum += sample * sample;
  return Math.sqrt(sum / buffer.length);
}

export class ReplyTimer {
  private readonly context = new AudioContext();
  private mic: AnalyserNode | null = null;
  private bot: AnalyserNode | null = null;
  private readonly buffer = new Float32Array(512);
  private readonly timer: number;
  private lastSpeech = 0;
  private botQuietSince: number | null = 0;
  private turnEnded = false;

  /** `report` gets each reply's wait in ms, once per trainee turn. */
  constructor(private readonly report: (ms: number) => void) {
    this.timer = window.setInterval(() => this.tick(), EVERY_MS);
  }

  watchMic(track: MediaStreamTrack): void {
    this.mic = this.analyser(track);
  }

  watchBot(track: MediaStreamTrack): void {
    this.bot = this.analyser(track);
  }

  /** The server heard the trainee's turn end: the next reply is timed. */
  userTurnEnded(): void {
    this.turnEnded = true;
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
    if (this.mic && level(this.mic, this.buffer) > SPEECH_LEVEL) this.lastSpeech = now;
    if (!this.bot) return;
    if (level(this.bot, this.buffer) <= SPEECH_LEVEL) {
      this.botQuietSince ??= now;
      return;
    }
    const replyStarts = this.botQuietSince !== null && now - this.botQuietSince >= QUIET_BEFORE_REPLY_MS;
    this.botQuietSince = null;
    if (replyStarts && this.turnEnded && this.lastSpeech > 0) {
      this.turnEnded = false;
      this.report(now - this.lastSpeech);
    }
  }
}
