// BSD names with Linux numbers, as MicroPython and CPython on Linux have them.
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_CAN = 29;

export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;

export const IPPROTO_IP = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const CAN_RAW = 1;

/** SOL_CAN_RAW options (linux/can/raw.h) */
export const SOL_CAN_RAW = 101;
export const CAN_RAW_FILTER = 1;
export const CAN_RAW_ERR_FILTER = 2;
export const CAN_RAW_LOOPBACK = 3;
export const CAN_RAW_RECV_OWN_MSGS = 4;
export const CAN_RAW_FD_FRAMES = 5;
export const CAN_RAW_JOIN_FILTERS = 6;

export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_TYPE = 3;
export const SO_ERROR = 4;
export const SO_KEEPALIVE = 9;
export const SO_RCVTIMEO = 20;
export const SO_SNDTIMEO = 21;
export const TCP_NODELAY = 1;

export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;

export const AI_PASSIVE = 1;

export const POLLIN = 0x001;
export const POLLPRI = 0x002;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;
