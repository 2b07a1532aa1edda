//! SQL of nutrition.
