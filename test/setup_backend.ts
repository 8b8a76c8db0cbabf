// Tests run on wasm unless LIGO_BACKEND says otherwise: auto mode would pick blas where a BLAS
// library loads, and the CLI tests compare results and printed backend names made on wasm. The
// backend tests ask for blas, cpu and auto explicitly.
process.env.LIGO_BACKEND ??= 'wasm';
