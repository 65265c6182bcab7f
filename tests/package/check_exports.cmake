# The dynamic symbols libvecformer defines: the public API (include/vecformer/, marked VECFORMER_API)
# and no symbol of vecformer::detail (its functions, data, vtables, type_infos). Public functions
# may still name a detail type in their signatures (Model's private constructor takes a
# detail::ModelImpl). Run by ctest as
#   cmake -DNM=nm -DLIBRARY=path/to/libvecformer.so -P check_exports.cmake
execute_process(COMMAND ${NM} -D --defined-only -C ${LIBRARY}
                OUTPUT_VARIABLE symbols RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${NM} -D failed on ${LIBRARY}")
endif()
# One symbol a line: address, type letter, demangled name.
string(REGEX MATCHALL
  "\n[0-9a-f]+ [A-Za-z] (typeinfo name for |typeinfo for |vtable for |VTT for |guard variable for )?vecformer::detail::[^\n]*"
  leaked "\n${symbols}")
if(leaked)
  list(LENGTH leaked count)
  list(JOIN leaked "" listing)
  message(FATAL_ERROR "${LIBRARY} exports ${count} vecformer::detail symbol(s):${listing}")
endif()
# Not vacuous: the public API is there.
foreach(expected IN ITEMS "vecformer::Model::load(" "vecformer::Tokenizer::load(" "vecformer::Model::classify("
                          "typeinfo for vecformer::Error")
  string(FIND "${symbols}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${LIBRARY} does not export ${expected}")
  endif()
endforeach()
message(STATUS "${LIBRARY}: no vecformer::detail symbol exported")
