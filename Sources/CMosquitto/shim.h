#ifndef SENTRA_CMOSQUITTO_SHIM_H
#define SENTRA_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#endif
