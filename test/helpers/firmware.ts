// Lets a unit test import firmware modules that import others by Moddable specifier: register
// this first, then import the firmware with a dynamic import().
import { register } from "node:module";

register("./firmware-resolve.mjs", import.meta.url);
