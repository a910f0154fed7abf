/**
 * Combines the watermarks of several inputs into one (Flink's StatusWatermarkValve): the output is the
 * minimum over the inputs that are active, it only moves forward, and an idle input does not hold it
 * back. When every input is idle the output goes idle too.
 *
 * @example
 * const valve = new WatermarkValve(2, (wm) => op.processWatermark(wm), (idle) => op.processWatermarkStatus(idle))
 * valve.inputWatermark(0, 10); valve.inputWatermark(1, 5) // emits 5
 */
export class WatermarkValve {
  private readonly watermarks: number[]
  private readonly idle: boolean[]
  private current = -Infinity
  private outputIdle = false

  constructor(
    inputs: number,
    private readonly onWatermark: (watermark: number) => void,
    private readonly onStatus: (idle: boolean) => void,
  ) {
    this.watermarks = new Array<number>(inputs).fill(-Infinity)
    this.idle = new Array<boolean>(inputs).fill(false)
  }

  get watermark(): number {
    return this.current
  }

  inputWatermark(input: number, watermark: number): void {
    if (watermark > this.watermarks[input]!) this.watermarks[input] = watermark
    if (this.idle[input]) this.inputStatus(input, false)
    else this.advance()
  }

  inputStatus(input: number, idle: boolean): void {
    if (this.idle[input] === idle) return
    this.idle[input] = idle
    const allIdle = this.idle.every((i) => i)
    if (allIdle !== this.outputIdle) {
      this.outputIdle = allIdle
      this.onStatus(allIdle)
    }
    this.advance()
  }

  /** An ended input holds nothing back any more. */
  inputEnded(input: number): void {
    this.watermarks[input] = Infinity
    this.idle[input] = false
    this.advance()
  }

  private advance(): void {
    let min = Infinity
    let active = false
    for (let i = 0; i < this.watermarks.length; i++) {
      if (this.idle[i]) continue
      active = true
      if (this.watermarks[i]! < min) min = this.watermarks[i]!
    }
    if (active && min > this.current && min !== Infinity) {
      this.current = min
      this.onWatermark(min)
    } else if (active && min === Infinity && this.current !== Infinity) {
      this.current = Infinity
      this.onWatermark(Infinity)
    }
  }
}
