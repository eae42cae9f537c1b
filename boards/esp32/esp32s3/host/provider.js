// The ECMA-419 host provider (embedded:provider/builtin) of Moddable's esp32/esp32s3 target.
export { default } from "xsock/target/provider";
