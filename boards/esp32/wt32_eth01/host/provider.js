// The ECMA-419 host provider (embedded:provider/builtin) of Moddable's esp32/wt32_eth01 target.
export { default } from "xsock/target/provider";
