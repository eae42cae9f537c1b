// The Moddable SDK's typings that xsock's modules, and an app on them, are checked against:
// @moddable/typings (a dependency of xsock), and xsock's own declarations where those are
// stale or missing. An app's tsconfig.json includes this file (xsock init's does).
/// <reference types="@moddable/typings/xs" />
/// <reference types="@moddable/typings/global" />
/// <reference types="@moddable/typings/timer" />
/// <reference types="@moddable/typings/wifi" />
/// <reference types="@moddable/typings/net" />
/// <reference types="@moddable/typings/mc/config" />
/// <reference types="@moddable/typings/socket" />
/// <reference types="@moddable/typings/instrumentation" />
/// <reference types="@moddable/typings/preference" />
/// <reference types="@moddable/typings/time" />
/// <reference types="@moddable/typings/sntp" />
/// <reference types="@moddable/typings/embedded_io/_common" />
/// <reference types="@moddable/typings/embedded_io/analog" />
/// <reference types="@moddable/typings/embedded_io/audioin" />
/// <reference types="@moddable/typings/embedded_io/audioout" />
/// <reference types="@moddable/typings/embedded_io/digital" />
/// <reference types="@moddable/typings/embedded_io/digitalbank" />
/// <reference types="@moddable/typings/embedded_io/i2c" />
/// <reference types="@moddable/typings/embedded_io/index" />
/// <reference types="@moddable/typings/embedded_io/pulsecount" />
/// <reference types="@moddable/typings/embedded_io/pwm" />
/// <reference types="@moddable/typings/embedded_io/serial" />
/// <reference types="@moddable/typings/embedded_io/smbus" />
/// <reference types="@moddable/typings/embedded_io/socket/listener" />
/// <reference types="@moddable/typings/embedded_io/socket/tcp" />
/// <reference types="@moddable/typings/embedded_io/socket/tls" />
/// <reference types="@moddable/typings/embedded_io/socket/udp" />
/// <reference types="@moddable/typings/embedded_io/spi" />
/// <reference types="@moddable/typings/embedded_io/system" />
/// <reference types="@moddable/typings/embedded_provider/builtin" />
/// <reference types="@moddable/typings/embedded_provider/index" />
/// <reference path="../src/types/ethernet.d.ts" />
/// <reference path="../src/types/netif.d.ts" />
/// <reference path="../src/types/system.d.ts" />
/// <reference path="../src/types/tls.d.ts" />
