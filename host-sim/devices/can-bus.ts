// The simulated CAN bus: every node attached hears every frame another node sends. A board's
// controller (TWAI device, MCP2515 model) is one node; the udp_multicast transport that
// python-can shares is another.

/** A frame on the wire, in python-can's terms (can.Message's fields). */
export interface BusFrame {
  arbitration_id: number;
  is_extended_id: boolean;
  is_remote_frame: boolean;
  is_error_frame: boolean;
  is_fd: boolean;
  bitrate_switch: boolean;
  error_state_indicator: boolean;
  dlc: number;
  data: Uint8Array;
  /** Seconds since the epoch, as python-can stamps messages. */
  timestamp: number;
}

export interface BusNode {
  /** A frame some other node sent. */
  receive(frame: BusFrame): void;
}

export class CanBus {
  readonly #nodes = new Set<BusNode>();

  attach(node: BusNode): () => void {
    this.#nodes.add(node);
    return () => this.#nodes.delete(node);
  }

  /** Puts a frame on the bus: every node but its sender hears it. */
  send(frame: BusFrame, from?: BusNode): void {
    for (const node of [...this.#nodes]) if (node !== from) node.receive(frame);
  }

  /** Nodes attached besides `except`: a frame nobody else hears gets no acknowledgement. */
  others(except?: BusNode): number {
    return [...this.#nodes].filter((n) => n !== except).length;
  }
}
