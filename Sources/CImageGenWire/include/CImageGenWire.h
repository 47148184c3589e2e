/* Umbrella header: the protoc-c code for the Proto files and the bounded decoder. */
#include "frame.pb-c.h"
#include "health.pb-c.h"
#include "generation.pb-c.h"
#include "imagegen_decoder.h"
