//! The names every part of the log stage shares: the internal columns of
//! the typed log frames and the feature windows. A module of their own so
//! that the readers, the aggregations and the id lookup import them
//! without importing each other.

/// Internal column names of the typed frames.
pub const DAY: &str = "day";
pub const AMOUNT: &str = "amount";
pub const EVENT: &str = "event";
pub const OPEN_DAY: &str = "open_day";
pub const SEQ: &str = "cust_seq";
/// File order of a log row.
pub const ROW: &str = "row";

/// Transaction and login windows, in days.
pub const WINDOWS: [i32; 4] = [30, 90, 180, 365];
/// The longest of [`WINDOWS`]: the history a snapshot needs behind it.
pub const LONGEST_WINDOW: i32 = WINDOWS[WINDOWS.len() - 1];
/// The trend compares the last `TREND` days with the `TREND` before.
pub const TREND: i32 = 90;

/// Event kind codes in the typed event frame.
pub mod kind {
    pub const OTHER: u8 = 0;
    pub const LOGIN: u8 = 1;
    pub const BRANCH: u8 = 2;
    pub const COMPLAINT: u8 = 3;
    pub const OVERDUE: u8 = 4;
    pub const PRODUCT_OPEN: u8 = 5;
    pub const PRODUCT_CLOSE: u8 = 6;
    pub const ACCOUNT_CLOSE: u8 = 7;
}
