# node-gyp build (npm install falls back to it when no prebuild fits).
# Keep in step with CMakeLists.txt: test/build-config.test.ts checks that both name the same
# sources with the same per-ISA flags.
{
  'target_defaults': {
    'cflags_cc': ['-std=c++17', '-O3', '-fexceptions'],
    'cflags_cc!': ['-fno-exceptions', '-fno-rtti', '-std=gnu++17', '-std=gnu++20'],
    'cflags!': ['-fno-exceptions'],
    'defines': ['NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS', 'NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS'],
    'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")"],
    'xcode_settings': {
      'GCC_ENABLE_CPP_EXCEPTIONS': 'YES',
      'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
      'MACOSX_DEPLOYMENT_TARGET': '10.15',
      'OTHER_CPLUSPLUSFLAGS': ['-O3']
    },
    'msvs_settings': {
      'VCCLCompilerTool': { 'ExceptionHandling': 1, 'AdditionalOptions': ['/std:c++17', '/O2'] }
    }
  },
  'targets': [
    {
      'target_name': 'convnd',
      'sources': [
        'native/binding/addon.cc',
        'native/binding/args.cc',
        'native/binding/async_jobs.cc',
        'native/core/axis_map.cc',
        'native/core/band_gemm.cc',
        'native/core/channel_columns.cc',
        'native/core/channel_gemm.cc',
        'native/core/conv_backward_weight.cc',
        'native/core/conv_ops.cc',
        'native/core/descriptors.cc',
        'native/core/gemm_plan.cc',
        'native/core/isa_dispatch.cc',
        'native/core/merged_phases.cc',
        'native/core/padded_input.cc',
        'native/core/plane_row_order.cc',
        'native/core/pooling.cc',
        'native/core/reference.cc',
        'native/core/reused_buffer.cc',
        'native/core/row_buffer.cc',
        'native/core/row_cache.cc',
        'native/core/staged_rows.cc',
        'native/core/thread_pool.cc',
        'native/core/weight_broadcast_gemm.cc',
        'native/core/weight_grad_gemm.cc',
        'native/core/weight_packer.cc',
        'native/core/weight_stationary.cc',
        'native/core/windowed_gemm.cc',
        'native/kernels/scalar/kernels_scalar.cc'
      ],
      'conditions': [
        # Never unloaded: the pool and scheduler threads outlive a worker that loaded the addon.
        ['OS=="linux"', { 'ldflags': ['-Wl,-z,nodelete'] }],
        ['target_arch=="x64"', { 'dependencies': ['convnd_avx2', 'convnd_avx512'] }],
        # NEON is part of every arm64 CPU: its kernels need no extra flags.
        ['target_arch=="arm64"', { 'sources': ['native/kernels/neon/kernels_neon.cc'] }]
      ]
    }
  ],
  'conditions': [
    ['target_arch=="x64"', {
      'targets': [
        {
          'target_name': 'convnd_avx2',
          'type': 'static_library',
          'sources': ['native/kernels/avx2/kernels_avx2.cc'],
          'cflags': ['-fPIC'],
          'cflags_cc': ['-mavx2', '-mfma'],
          'xcode_settings': { 'OTHER_CPLUSPLUSFLAGS': ['-O3', '-mavx2', '-mfma'] },
          'msvs_settings': { 'VCCLCompilerTool': { 'AdditionalOptions': ['/arch:AVX2'] } }
        },
        {
          'target_name': 'convnd_avx512',
          'type': 'static_library',
          'sources': ['native/kernels/avx512/kernels_avx512.cc'],
          'cflags': ['-fPIC'],
          'cflags_cc': ['-mavx512f', '-mfma'],
          'xcode_settings': { 'OTHER_CPLUSPLUSFLAGS': ['-O3', '-mavx512f', '-mfma'] },
          'msvs_settings': { 'VCCLCompilerTool': { 'AdditionalOptions': ['/arch:AVX512'] } }
        }
      ]
    }]
  ]
}
