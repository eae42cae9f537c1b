// `xsock list`'s operation and table: serialport's MockBinding, and Linux's sysfs without udevadm.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SerialPortMock } from "serialport";
import { formatPorts } from "../../host-sim/commands/list.ts";
import { outputStyle } from "../../host-sim/commands/common.ts";
import { listPorts, sysfsLister } from "../../host-sim/serial/ports.ts";

/** serialport's MockBinding: ports made up by the test. */
const MockBinding = SerialPortMock.binding;
const plain = outputStyle({ color: false }, { isTTY: false } as NodeJS.WriteStream);

describe("xsock list: the serial ports", () => {
  afterEach(() => MockBinding.reset());

  it("marks the ESP32 boards' USB bridges, ESP32-like ports first", async () => {
    MockBinding.createPort("/dev/ttyACM1", { vendorId: "2341", productId: "0043", manufacturer: "Arduino (www.arduino.cc)" });
    MockBinding.createPort("/dev/ttyUSB1", { vendorId: "1A86", productId: "55D4", manufacturer: "1a86" });
    MockBinding.createPort("/dev/ttyUSB0", { vendorId: "10c4", productId: "ea60", manufacturer: "Silicon Labs" });
    MockBinding.createPort("/dev/ttyACM0", { vendorId: "303a", productId: "1001", manufacturer: "Espressif" });
    MockBinding.createPort("/dev/ttyUSB10", { vendorId: "0403", productId: "6015", manufacturer: "FTDI" });
    MockBinding.createPort("/dev/ttyUSB2", { vendorId: "1a86", productId: "7523", manufacturer: "1a86" });
    MockBinding.createPort("/dev/ttyS0", { manufacturer: "" });
    const ports = await listPorts(MockBinding);
    assert.deepEqual(
      ports.map((p) => [p.path, p.vid, p.pid, p.bridge]),
      [
        ["/dev/ttyACM0", "303a", "1001", "ESP32 USB Serial/JTAG"],
        ["/dev/ttyUSB0", "10c4", "ea60", "CP210x"],
        ["/dev/ttyUSB1", "1a86", "55d4", "CH9102"],
        ["/dev/ttyUSB2", "1a86", "7523", "CH340"],
        ["/dev/ttyUSB10", "0403", "6015", "FTDI"],
        ["/dev/ttyACM1", "2341", "0043", undefined],
        ["/dev/ttyS0", undefined, undefined, undefined],
      ],
    );
    assert.equal(ports.at(-1)!.manufacturer, undefined, "an empty manufacturer is none");
  });

  it("prints a table with VID:PID and the bridge", async () => {
    MockBinding.createPort("/dev/ttyUSB0", { vendorId: "10c4", productId: "ea60", manufacturer: "Silicon Labs" });
    MockBinding.createPort("/dev/ttyS0", { manufacturer: "" });
    assert.equal(
      formatPorts(await listPorts(MockBinding), plain),
      "PORT          VID:PID    MANUFACTURER\n/dev/ttyUSB0  10c4:ea60  Silicon Labs  ESP32-like (CP210x)\n/dev/ttyS0    -          -\n",
    );
  });

  it("paints the bridge green only when colour is on", async () => {
    MockBinding.createPort("/dev/ttyUSB0", { vendorId: "10c4", productId: "ea60", manufacturer: "Silicon Labs" });
    const ports = await listPorts(MockBinding);
    const tty = { isTTY: true } as NodeJS.WriteStream;
    const noColor = process.env.NO_COLOR;
    try {
      delete process.env.NO_COLOR;
      assert.ok(formatPorts(ports, outputStyle({}, tty)).includes("\x1b[32mESP32-like (CP210x)\x1b[0m"));
      assert.ok(!formatPorts(ports, outputStyle({ color: false }, tty)).includes("\x1b["), "--no-color");
      process.env.NO_COLOR = "1";
      assert.ok(!formatPorts(ports, outputStyle({}, tty)).includes("\x1b["), "NO_COLOR");
    } finally {
      if (noColor === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = noColor;
    }
  });

  it("reads USB serial ports from sysfs where udevadm is missing", async () => {
    const root = mkdtempSync(join(tmpdir(), "xsock-sysfs-"));
    const usb = join(root, "sys/devices/pci0000:00/usb1/1-2");
    mkdirSync(join(usb, "1-2:1.0/ttyUSB0"), { recursive: true });
    for (const [file, text] of Object.entries({ idVendor: "1a86\n", idProduct: "55d4\n", manufacturer: "QinHeng Electronics\n", serial: "5434012345\n" })) writeFileSync(join(usb, file), text);
    mkdirSync(join(root, "sys/devices/platform/serial8250/tty/ttyS0"), { recursive: true });
    mkdirSync(join(root, "sys/class/tty/ttyUSB0"), { recursive: true });
    mkdirSync(join(root, "sys/class/tty/ttyS0"), { recursive: true });
    symlinkSync(join(usb, "1-2:1.0"), join(root, "sys/class/tty/ttyUSB0/device"));
    symlinkSync(join(root, "sys/devices/platform/serial8250"), join(root, "sys/class/tty/ttyS0/device"));
    const ports = await listPorts(sysfsLister(root));
    assert.deepEqual(ports, [
      { path: join(root, "dev/ttyUSB0"), manufacturer: "QinHeng Electronics", serialNumber: "5434012345", vid: "1a86", pid: "55d4", bridge: "CH9102" },
    ]);
  });
});
