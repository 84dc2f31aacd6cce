#include <iostream>

#include "hns/tools/diag.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return hnsproxy::hns::runHnsdiag(args, std::cout, std::cerr);
}
