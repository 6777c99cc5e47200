// A Node-API addon with one function, trim(): glibc's malloc_trim(0), which gives the free pages
// inside malloc's heaps back to the system. glibc returns only the free memory at a heap's top by
// itself; after a load of large bodies, the heap holds tens of MB that are free but lie between
// live allocations, and only this call releases them. Built by `npm run build` where a C compiler
// and glibc are there; Portico runs without it elsewhere.
//
// The few Node-API declarations it needs are written out here, so that it builds without node's
// headers; the functions are node's own, found in the running node when the addon is loaded.
#include <malloc.h>
#include <stddef.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);

extern int napi_create_function(napi_env env, const char *name, size_t length, napi_callback cb, void *data,
                                napi_value *result);
extern int napi_set_named_property(napi_env env, napi_value object, const char *name, napi_value value);

// Returns undefined: whether glibc found pages to give back is of no use to the caller.
static napi_value trim(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  malloc_trim(0);
  return NULL;
}

int node_api_module_get_api_version_v1(void) { return 8; }

napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "trim", 4, trim, NULL, &fn) == 0) napi_set_named_property(env, exports, "trim", fn);
  return exports;
}
