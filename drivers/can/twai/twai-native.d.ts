// The native TWAI controller: ESP-IDF's TWAI driver (esp32/twai.c, bound by esp32/twai-native.js).
// The boundary is small: frames cross it as SocketCAN's 16-byte struct can_frame, and the
// driver's alerts (ESP-IDF's TWAI_ALERT_* bits) come back through onAlert.

export interface TwaiNativeOptions {
  /** The GPIOs of the transceiver's TX and RX lines. */
  transmit: number;
  receive: number;
  /** 25000 to 1000000 bit/s, one of ESP-IDF's TWAI_TIMING_CONFIG_* presets. */
  bitrate: number;
  /** twai_mode_t: 0 normal, 1 no-ack, 2 listen-only. */
  mode: number;
  /** The single acceptance filter, in TWAI's polarity: a 1 in mask is a bit that need not match. */
  code: number;
  mask: number;
  /** Depths of the driver's transmit and receive queues, in frames. */
  txQueue: number;
  rxQueue: number;
  /** The alerts raised since the last call; called on the XS machine's thread. */
  onAlert(alerts: number): void;
}

/** Installs and starts the driver; close() stops and uninstalls it. */
export default class TwaiNative {
  constructor(options: TwaiNativeOptions);
  /** Queues a packed can_frame without waiting; false when the transmit queue is full. */
  write(frame: ArrayBuffer): boolean;
  /** Takes the next received frame into `into` (16 bytes, a packed can_frame); false when none is queued. */
  read(into: ArrayBuffer): boolean;
  /**
   * twai_get_status_info, in this order: state (twai_state_t), TEC, REC, frames to transmit,
   * frames to read, failed transmissions, frames missed (receive queue full), FIFO overruns,
   * arbitrations lost, bus errors.
   */
  status(): number[];
  /** twai_start: runs a stopped controller again (after bus-off recovery). */
  start(): void;
  /** twai_initiate_recovery: a bus-off controller waits 128 x 11 recessive bits, then stops. */
  recover(): void;
  close(): void;
}
