// Moddable's `ethernet` module (modules/network/ethernet), which @moddable/typings leaves out.
declare module "ethernet" {
  type Message = "connect" | "gotIP" | "lostIP" | "disconnect";
  export default class Ethernet {
    static readonly gotIP: "gotIP";
    static readonly lostIP: "lostIP";
    static readonly connected: "connect";
    static readonly disconnected: "disconnect";
    constructor(onNotify?: (message: Message) => void);
    close(): void;
    static start(): void;
    static useStaticIP(address: string, netmask: string, gateway: string): void;
    static useDHCP(): void;
  }
}
