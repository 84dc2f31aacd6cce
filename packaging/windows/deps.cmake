# Dependencies of the MinGW-w64 cross build (packaging/windows/build-exe.sh): OpenSSL, yaml-cpp and
# Boost.Program_options are static libraries cross-built from Debian's source packages into HNSPROXY_MINGW_DEPS (packaging/windows/build-deps.sh);
# Boost.Asio/Beast, nlohmann/json, fmt and spdlog are used header-only, from an include folder of
# symlinks to just those libraries (never the host's whole /usr/include). Everything is linked
# statically, so the exe needs nothing beside it on a bare Windows Server.
# (MSVC finds vcpkg's packages like the Linux build finds Debian's: CMakeLists.txt.)
if(NOT HNSPROXY_MINGW_DEPS OR NOT EXISTS "${HNSPROXY_MINGW_DEPS}/.complete")
  message(FATAL_ERROR "HNSPROXY_MINGW_DEPS must name the prefix packaging/windows/build-deps.sh built")
endif()
set(header_dir "${PROJECT_BINARY_DIR}/header-only")
file(MAKE_DIRECTORY "${header_dir}")
foreach(lib boost nlohmann fmt spdlog)
  if(NOT EXISTS "${header_dir}/${lib}")
    file(CREATE_LINK "/usr/include/${lib}" "${header_dir}/${lib}" SYMBOLIC)
  endif()
endforeach()
set(OPENSSL_ROOT_DIR "${HNSPROXY_MINGW_DEPS}")
set(OPENSSL_USE_STATIC_LIBS TRUE)
find_package(OpenSSL REQUIRED)
find_package(yaml-cpp REQUIRED CONFIG PATHS "${HNSPROXY_MINGW_DEPS}" NO_DEFAULT_PATH)
# OpenSSL's own Windows dependencies when linked statically.
set_property(TARGET OpenSSL::Crypto APPEND PROPERTY INTERFACE_LINK_LIBRARIES ws2_32 crypt32 bcrypt)

add_library(hnsproxy_header_only INTERFACE)
target_include_directories(hnsproxy_header_only SYSTEM INTERFACE "${header_dir}")
add_library(nlohmann_json::nlohmann_json ALIAS hnsproxy_header_only)
add_library(Boost::boost INTERFACE IMPORTED)
target_link_libraries(Boost::boost INTERFACE hnsproxy_header_only ws2_32 mswsock)
# Windows 10 / Server 2016 and later (Asio's requirement); windows.h without winsock.h (Asio and
# the HCN client include winsock2.h) and without min/max macros — for every target, Asio or not.
add_compile_definitions(_WIN32_WINNT=0x0A00 WIN32_LEAN_AND_MEAN NOMINMAX)
add_library(Boost::program_options STATIC IMPORTED)
set_target_properties(Boost::program_options PROPERTIES
  IMPORTED_LOCATION "${HNSPROXY_MINGW_DEPS}/lib/libboost_program_options.a" INTERFACE_LINK_LIBRARIES hnsproxy_header_only)
add_library(fmt::fmt INTERFACE IMPORTED)
target_link_libraries(fmt::fmt INTERFACE hnsproxy_header_only)
target_compile_definitions(fmt::fmt INTERFACE FMT_HEADER_ONLY)
add_library(spdlog::spdlog INTERFACE IMPORTED)
target_link_libraries(spdlog::spdlog INTERFACE fmt::fmt)
target_compile_definitions(spdlog::spdlog INTERFACE SPDLOG_FMT_EXTERNAL)
add_link_options(-static -static-libgcc -static-libstdc++)
