//! RTT-Inside v1 example, standard library only: the engine, a session-log writer and a minimal JSON reader.
pub mod engine;
pub mod json;
pub mod logger;
