// send_msg and recv_msg: the `<N>_<payload>` framing over a stream socket.
import { encodeFrame, FrameDecoder } from "./framing";
import type { Data, Socket } from "./bsd-socket";

// Made at run time: a WeakMap made while preloading would be read-only on the board.
let decoderMap: WeakMap<Socket, { decoder: FrameDecoder; ready: Uint8Array[] }> | undefined;
const decoders = () => (decoderMap ??= new WeakMap());

export function send_msg(sock: Socket, payload: Data): Promise<void> {
  return sock.sendall(encodeFrame(payload));
}

/** The next whole message's payload; null once the peer has closed between messages. */
export async function recv_msg(sock: Socket, bufsize = 1024): Promise<Uint8Array | null> {
  let state = decoders().get(sock);
  if (!state) decoders().set(sock, (state = { decoder: new FrameDecoder(), ready: [] }));
  while (!state.ready.length) {
    const bytes = await sock.recv(bufsize);
    if (!bytes.length) {
      if (state.decoder.pending) throw new Error(`the peer closed in the middle of a message (${state.decoder.pending} bytes held)`);
      return null;
    }
    for (const message of state.decoder.push(bytes)) state.ready.push(message); // not a spread: a read may hold many
  }
  return state.ready.shift()!;
}
