// A shared library that is no untangle plugin: it defines no untangle_plugin function.
extern "C" int some_function() { return 42; }
