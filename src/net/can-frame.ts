// CAN frames as SocketCAN has them (linux/can.h): the can_id with its flags, and the packed
// 16-byte `struct can_frame` and 72-byte `struct canfd_frame`, little-endian as on x86 and ESP32.

export const CAN_EFF_FLAG = 0x80000000;
export const CAN_RTR_FLAG = 0x40000000;
export const CAN_ERR_FLAG = 0x20000000;
export const CAN_SFF_MASK = 0x000007ff;
export const CAN_EFF_MASK = 0x1fffffff;
export const CAN_ERR_MASK = 0x1fffffff;
export const CAN_INV_FILTER = 0x20000000;

export const CAN_MAX_DLEN = 8;
export const CANFD_MAX_DLEN = 64;
export const CAN_MTU = 16;
export const CANFD_MTU = 72;
/** canfd_frame.flags */
export const CANFD_BRS = 0x01;
export const CANFD_ESI = 0x02;
export const CANFD_FDF = 0x04;

// Error frames (linux/can/error.h): the class is in can_id, the details in data.
export const CAN_ERR_DLC = 8;
export const CAN_ERR_TX_TIMEOUT = 0x001;
export const CAN_ERR_LOSTARB = 0x002;
export const CAN_ERR_CRTL = 0x004;
export const CAN_ERR_PROT = 0x008;
export const CAN_ERR_TRX = 0x010;
export const CAN_ERR_ACK = 0x020;
export const CAN_ERR_BUSOFF = 0x040;
export const CAN_ERR_BUSERROR = 0x080;
export const CAN_ERR_RESTARTED = 0x100;
export const CAN_ERR_CNT = 0x200;
/** data[1] of a CAN_ERR_CRTL frame */
export const CAN_ERR_CRTL_UNSPEC = 0x00;
export const CAN_ERR_CRTL_RX_OVERFLOW = 0x01;
export const CAN_ERR_CRTL_TX_OVERFLOW = 0x02;
export const CAN_ERR_CRTL_RX_WARNING = 0x04;
export const CAN_ERR_CRTL_TX_WARNING = 0x08;
export const CAN_ERR_CRTL_RX_PASSIVE = 0x10;
export const CAN_ERR_CRTL_TX_PASSIVE = 0x20;
export const CAN_ERR_CRTL_ACTIVE = 0x40;

export interface CanFrame {
  /** The identifier with CAN_EFF_FLAG, CAN_RTR_FLAG and CAN_ERR_FLAG, as an unsigned 32-bit number. */
  can_id: number;
  /** Payload length: 0 to 8, or 0 to 64 for CAN FD. */
  len: number;
  /** The payload, `len` bytes (an RTR frame has none). */
  data: Uint8Array;
  /** A CAN FD frame (struct canfd_frame). */
  fd?: boolean;
  /** CANFD_BRS and CANFD_ESI, for CAN FD frames. */
  flags?: number;
}

/** The lengths a CAN FD frame may have (its DLC codes 0 to 15). */
export const FD_LENGTHS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];

/** Why a frame is not one a bus could carry, or undefined when it is. */
export function frameProblem(frame: CanFrame): string | undefined {
  const id = frame.can_id;
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) return `can_id ${id} is not a 32-bit number`;
  const extended = (id & CAN_EFF_FLAG) !== 0;
  const bits = id & CAN_EFF_MASK;
  if (!(id & CAN_ERR_FLAG) && (extended ? bits > CAN_EFF_MASK : bits > CAN_SFF_MASK))
    return `identifier 0x${bits.toString(16)} does not fit ${extended ? "29" : "11"} bits`;
  if (frame.fd) {
    if (id & CAN_RTR_FLAG) return "CAN FD has no remote frames";
    if (!FD_LENGTHS.includes(frame.len)) return `a CAN FD frame's length is one of ${FD_LENGTHS.join(", ")}, not ${frame.len}`;
  } else if (!Number.isInteger(frame.len) || frame.len < 0 || frame.len > CAN_MAX_DLEN) {
    return `a CAN frame's length is 0 to 8, not ${frame.len}`;
  }
  if (!(id & CAN_RTR_FLAG) && frame.data.length < frame.len) return `len is ${frame.len} but data has ${frame.data.length} bytes`;
  return undefined;
}

/** A frame, checked, with its data cut to len (none for RTR). Throws a RangeError for a bad one. */
export function canFrame(can_id: number, data: ArrayLike<number> = [], options: { len?: number; fd?: boolean; flags?: number } = {}): CanFrame {
  const bytes = Uint8Array.from(data);
  const rtr = (can_id & CAN_RTR_FLAG) !== 0;
  const frame: CanFrame = { can_id: can_id >>> 0, len: options.len ?? bytes.length, data: rtr ? new Uint8Array(0) : bytes };
  if (options.fd) {
    frame.fd = true;
    frame.flags = (options.flags ?? 0) & (CANFD_BRS | CANFD_ESI);
  }
  const problem = frameProblem(frame);
  if (problem) throw new RangeError(problem);
  if (!rtr) frame.data = bytes.slice(0, frame.len);
  return frame;
}

/** The frame as `struct can_frame` (16 bytes) or, for CAN FD, `struct canfd_frame` (72 bytes). */
export function packFrame(frame: CanFrame): Uint8Array {
  const problem = frameProblem(frame);
  if (problem) throw new RangeError(problem);
  const out = new Uint8Array(frame.fd ? CANFD_MTU : CAN_MTU);
  new DataView(out.buffer).setUint32(0, frame.can_id >>> 0, true);
  out[4] = frame.len;
  if (frame.fd) out[5] = (frame.flags ?? 0) | CANFD_FDF;
  if (!(frame.can_id & CAN_RTR_FLAG)) out.set(frame.data.subarray(0, frame.len), 8);
  return out;
}

/** A frame from `struct can_frame` (16 bytes) or `struct canfd_frame` (72 bytes). */
export function unpackFrame(bytes: ArrayBufferLike | ArrayBufferView): CanFrame {
  const u8 = ArrayBuffer.isView(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Uint8Array(bytes);
  if (u8.length !== CAN_MTU && u8.length !== CANFD_MTU) throw new RangeError(`a packed CAN frame is ${CAN_MTU} or ${CANFD_MTU} bytes, not ${u8.length}`);
  const fd = u8.length === CANFD_MTU;
  const can_id = new DataView(u8.buffer, u8.byteOffset, 8).getUint32(0, true);
  const len = u8[4];
  const frame: CanFrame = { can_id, len, data: can_id & CAN_RTR_FLAG ? new Uint8Array(0) : u8.slice(8, 8 + len) };
  if (fd) {
    frame.fd = true;
    frame.flags = u8[5] & (CANFD_BRS | CANFD_ESI);
  }
  const problem = frameProblem(frame);
  if (problem) throw new RangeError(problem);
  return frame;
}

/** An error frame of class `classes` (CAN_ERR_*), with data bytes as error.h lays them out. */
export function errorFrame(classes: number, data: ArrayLike<number> = []): CanFrame {
  const bytes = new Uint8Array(CAN_ERR_DLC);
  bytes.set(Array.from(data).slice(0, CAN_ERR_DLC));
  return { can_id: (CAN_ERR_FLAG | (classes & CAN_ERR_MASK)) >>> 0, len: CAN_ERR_DLC, data: bytes };
}
