// Catch2 as the platform has it: v2's single header (Debian's catch2 2.13), or v3's (vcpkg on
// Windows). The tests use only what both have.
#pragma once
#if __has_include(<catch2/catch.hpp>)
#include <catch2/catch.hpp>
#else
#include <catch2/catch_all.hpp>
#endif
