#ifndef CARPHONE_FRAME_CLOCK_H
#define CARPHONE_FRAME_CLOCK_H

#include <node_api.h>

/* Adds clockOpen, clockStart, clockStop and clockClose to the addon's exports. */
void frame_clock_define(napi_env env, napi_value exports);

#endif
