// Frames on the simulated bus in python-can's terms (can.Message's fields), checked as
// python-can's Message(check=True) checks them, and converted to and from SocketCAN's packed
// struct can_frame, the form in which the board's controllers hand them to the firmware.
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_MTU, CAN_RTR_FLAG, CAN_SFF_MASK, FD_LENGTHS, packFrame } from "../../src/net/can-frame.ts";
import type { BusFrame } from "./can-bus.ts";

export { CAN_MTU };

/** What a user gives for a frame: can.Message's fields, of which only arbitration_id is required. */
export interface CanMessage {
  arbitration_id: number;
  /** As in python-can, true unless it is given: `is_extended_id: false` makes a standard frame. */
  is_extended_id?: boolean;
  /** Bytes; a hex string ("01 02 ff" or "0102ff") or a list of numbers will do. */
  data?: Uint8Array | number[] | string;
  is_remote_frame?: boolean;
  is_error_frame?: boolean;
  is_fd?: boolean;
  bitrate_switch?: boolean;
  error_state_indicator?: boolean;
  /** The length; the data's by default (a remote frame's requested length). */
  dlc?: number;
  timestamp?: number;
}

/** Bytes from a Uint8Array, a list of numbers or a hex string. */
export function messageData(data: CanMessage["data"]): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (data instanceof Uint8Array) return data;
  if (typeof data === "string") {
    const hex = data.replace(/[\s:.-]/g, "");
    if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`bad CAN data "${data}": use hex bytes such as "01 02 ff"`);
    return Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
  }
  if (!Array.isArray(data) || data.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) throw new Error("bad CAN data: bytes are integers from 0 to 255");
  return Uint8Array.from(data);
}

/** Why a frame is not one python-can would accept (Message._check), or undefined. */
export function busFrameProblem(f: BusFrame): string | undefined {
  if (!Number.isFinite(f.timestamp) || f.timestamp < 0) return `timestamp ${f.timestamp}`;
  if (!Number.isInteger(f.arbitration_id) || f.arbitration_id < 0) return `arbitration_id ${f.arbitration_id}`;
  if (f.is_extended_id ? f.arbitration_id > CAN_EFF_MASK : f.arbitration_id > CAN_SFF_MASK)
    return `arbitration_id 0x${f.arbitration_id.toString(16)} does not fit ${f.is_extended_id ? 29 : 11} bits`;
  if (f.is_remote_frame && (f.is_error_frame || f.is_fd)) return "a remote frame is neither an error frame nor CAN FD";
  if (!Number.isInteger(f.dlc) || f.dlc < 0 || f.dlc > (f.is_fd ? 64 : 8)) return `dlc ${f.dlc}`;
  if (f.is_fd && !FD_LENGTHS.includes(f.dlc)) return `a CAN FD frame's length is one of ${FD_LENGTHS.join(", ")}, not ${f.dlc}`;
  if (f.is_remote_frame ? f.data.length !== 0 : f.dlc !== f.data.length) return `dlc ${f.dlc} with ${f.data.length} data bytes`;
  if (!f.is_fd && (f.bitrate_switch || f.error_state_indicator)) return "bitrate_switch and error_state_indicator are CAN FD's";
  return undefined;
}

/** A checked frame from a message's fields, stamped now unless it has a timestamp. */
export function busFrame(message: CanMessage): BusFrame {
  const data = message.is_remote_frame ? new Uint8Array(0) : messageData(message.data);
  const frame: BusFrame = {
    arbitration_id: message.arbitration_id,
    is_extended_id: message.is_extended_id ?? true,
    is_remote_frame: message.is_remote_frame ?? false,
    is_error_frame: message.is_error_frame ?? false,
    is_fd: message.is_fd ?? false,
    bitrate_switch: message.bitrate_switch ?? false,
    error_state_indicator: message.error_state_indicator ?? false,
    dlc: message.dlc ?? data.length,
    data,
    timestamp: message.timestamp ?? Date.now() / 1000,
  };
  const problem = busFrameProblem(frame);
  if (problem) throw new Error(`bad CAN frame: ${problem}`);
  return frame;
}

/** A classic frame as SocketCAN's struct can_frame (16 bytes, little-endian). */
export function packBusFrame(frame: BusFrame): Uint8Array {
  const can_id = (frame.arbitration_id | (frame.is_extended_id ? CAN_EFF_FLAG : 0) | (frame.is_remote_frame ? CAN_RTR_FLAG : 0)) >>> 0;
  return packFrame({ can_id, len: frame.dlc, data: frame.data });
}

/** A struct can_frame (16 bytes) as a frame on the bus; throws on one no bus could carry. */
export function unpackBusFrame(bytes: Uint8Array, timestamp = Date.now() / 1000): BusFrame {
  if (bytes.length !== CAN_MTU) throw new Error(`a packed CAN frame is ${CAN_MTU} bytes, not ${bytes.length}`);
  const id = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  if (id & CAN_ERR_FLAG) throw new Error("an error frame is not sent on the bus");
  const extended = (id & CAN_EFF_FLAG) !== 0;
  const remote = (id & CAN_RTR_FLAG) !== 0;
  const dlc = bytes[4];
  return busFrame({
    arbitration_id: id & (extended ? CAN_EFF_MASK : CAN_SFF_MASK),
    is_extended_id: extended,
    is_remote_frame: remote,
    dlc,
    data: remote ? undefined : bytes.slice(8, 8 + Math.min(dlc, 8)),
    timestamp,
  });
}

/** The frame in candump's style: `1F334455#DEADBEEF`, `123#R2`. */
export function describeFrame(f: BusFrame): string {
  const id = f.arbitration_id.toString(16).toUpperCase().padStart(f.is_extended_id ? 8 : 3, "0");
  if (f.is_error_frame) return `${id}#error`;
  if (f.is_remote_frame) return `${id}#R${f.dlc}`;
  return `${id}#${f.is_fd ? "#" : ""}${Buffer.from(f.data).toString("hex").toUpperCase()}`;
}

/**
 * Bits a classic frame takes on the wire, without stuffing: SOF, id, control, data, CRC, ACK,
 * EOF and the intermission (47 for a standard frame with no data, 67 for an extended one).
 */
export function frameBits(f: BusFrame): number {
  return (f.is_extended_id ? 67 : 47) + (f.is_remote_frame ? 0 : 8 * f.data.length);
}
