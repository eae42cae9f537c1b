// `xsock/ota` on the board: Moddable's `ota` module (ESP-IDF's esp_ota_*), which is on esp32 only.
import OTA from "ota";

export default OTA;
