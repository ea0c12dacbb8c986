/* tinyperf int8 kernels: everything a generated model.c needs. */
#ifndef TP_KERNELS_H
#define TP_KERNELS_H

#include "tp_types.h"
#include "tp_conv.h"
#include "tp_conv_smallc.h"
#include "tp_dwconv.h"
#include "tp_fc.h"
#include "tp_pool.h"
#include "tp_add.h"
#include "tp_softmax.h"
#include "tp_quantize.h"

#endif
