#ifndef LANEKIOSK_CSERIALPORT_SHIM_H
#define LANEKIOSK_CSERIALPORT_SHIM_H
#include <libserialport.h>
#endif
