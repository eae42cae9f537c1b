// The ECMA-419 host provider (embedded:provider/builtin) of Moddable's esp32/nodemcu target.
export { default } from "xsock/target/provider";
