#ifndef LANEKIOSK_CGPIOD_SHIM_H
#define LANEKIOSK_CGPIOD_SHIM_H
#include <gpiod.h>
#endif
