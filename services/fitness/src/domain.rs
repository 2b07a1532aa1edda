//! Domain types shared by the resources: enums for stored states and validated values.
