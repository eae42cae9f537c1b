// xsock/socket: BSD sockets for firmware, with millisecond timeouts and select.
export * from "./constants";
export { errno, SocketError, TimeoutError } from "./errors";
export { inet_aton, inet_ntoa, ip_to_tuple, type Address, type AddressLike } from "./address";
export { socket, Socket, openCount, wrap_socket, type Data, type TlsOptions } from "./bsd-socket";
export { getaddrinfo, gethostbyname, type AddrInfo } from "./resolve";
export { select, poll, Poll } from "./select";
export { send_msg, recv_msg } from "./messages";
export { ping, type EchoReply } from "./ping";
export { encodeFrame, FrameDecoder } from "./framing";
export * from "xsock/can-frame";
export type { CanFilter } from "xsock/can-filter";
export { canInterface, canInterfaces, type CanInterface, type CanMode, type CanState } from "xsock/can";
