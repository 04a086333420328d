# zcpipe_target_defaults(TARGET): warnings (as errors with ZCPIPE_WERROR) for zcpipe's own code.
# Sanitizers apply to every target through ZCPIPE_SANITIZE (set globally so that GoogleTest's
# and our objects agree).
if(ZCPIPE_SANITIZE)
  add_compile_options(-fsanitize=${ZCPIPE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${ZCPIPE_SANITIZE})
  if(ZCPIPE_SANITIZE MATCHES "undefined")
    # oneTBB's flow-graph tasks downcast themselves in finalize() after their destructor ran
    # (oneapi/tbb/detail/_flow_graph_impl.h), which UBSan's vptr check reports; the other
    # checks stay on.
    add_compile_options(-fno-sanitize=vptr)
  endif()
  if(ZCPIPE_SANITIZE MATCHES "thread")
    # g++ warns that TSan does not model atomic_thread_fence. The ring's fences only order its
    # futex wake-up handshake, whose words are all atomics, so no race report depends on them.
    add_compile_options(-Wno-tsan)
  endif()
endif()

function(zcpipe_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
  if(ZCPIPE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # g++ 12 at -O3 reports std::string appends as overlapping memcpy (GCC bug 105329).
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
endfunction()
