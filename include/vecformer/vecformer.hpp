#pragma once

#include "vecformer/config.hpp"
#include "vecformer/error.hpp"
#include "vecformer/export.hpp"
#include "vecformer/model.hpp"
#include "vecformer/tensor.hpp"
#include "vecformer/tokenizer.hpp"
