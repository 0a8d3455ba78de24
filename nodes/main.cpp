#include "nodes/register.h"
#include "pipeline/cli.h"

int main(int argc, char** argv) {
  untangle::Registry ops;
  untangle::register_all_ops(ops);
  return untangle::cli_main(argc, argv, ops);
}
