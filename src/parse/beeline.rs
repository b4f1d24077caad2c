//! Placeholder: being written.

use super::{Ctx, Item, ParseError};

pub fn parse(_line: &str, _ctx: &Ctx<'_>) -> Result<Option<Vec<Item>>, ParseError> {
    Ok(None)
}
