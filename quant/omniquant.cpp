#include "quant/block_stage.h"
