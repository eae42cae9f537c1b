// Frames on the simulated CAN bus, as python-can's can.Message has them.
import type { BusFrame } from "../../host-sim/devices/can-bus.ts";

export function busFrame(id: number, data: number[] = [], options: Partial<BusFrame> = {}): BusFrame {
  return {
    arbitration_id: id,
    is_extended_id: false,
    is_remote_frame: false,
    is_error_frame: false,
    is_fd: false,
    bitrate_switch: false,
    error_state_indicator: false,
    dlc: data.length,
    data: Uint8Array.from(data),
    timestamp: 0,
    ...options,
  };
}
