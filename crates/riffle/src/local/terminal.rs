//! Text made safe for the live table's terminal, and for output that is not a terminal.
//!
//! indicatif redraws the table by moving the cursor up as many rows as it printed, counting a
//! line's rows from the display width of its characters (`unicode-width`, escape sequences and
//! control characters counted as nothing). A terminal does not see it that way: a tab moves to
//! the next multiple of 8, a carriage return to the first column, a cursor escape anywhere.
//! When the two disagree, the redraw starts too low and leaves copies of the table's header in
//! the scrollback. So every line printed above the table is first made to agree: tabs expanded
//! to spaces, other control characters and escape sequences other than colours (SGR) removed,
//! and the line cut into pieces no wider than the terminal, each breaking before a character
//! that would not fit (as a terminal wraps a wide character). Table rows are cut to the width
//! instead of wrapped.
//!
//! Invariant: every line [`fit`] returns is at most `width` columns as indicatif and the
//! terminal both count them, so indicatif's count of printed rows is the terminal's.

use console::AnsiCodeIterator;
use unicode_width::UnicodeWidthChar;

/// Where a tab moves the cursor: the next multiple of 8, as terminals set their tab stops.
const TAB: usize = 8;

/// `line` as rows of at most `width` columns for the terminal: tabs expanded, colours kept (and
/// reset at the end if the line leaves one on), every other escape sequence and control
/// character removed, long lines wrapped.
pub(crate) fn fit(line: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut rows = Vec::new();
    let mut row = String::new();
    let mut column = 0;
    // A colour still on at the end of the line: reset, so it never reaches the table.
    let mut coloured = false;
    for piece in pieces(line) {
        match piece {
            Piece::Colour(code) => {
                coloured = !matches!(code, "\u{1b}[0m" | "\u{1b}[m");
                row.push_str(code);
            }
            Piece::Char(c, w) => {
                if column + w > width {
                    rows.push(std::mem::take(&mut row));
                    column = 0;
                }
                row.push(c);
                column += w;
            }
            Piece::Tab => {
                // A tab is as many spaces as reach the next stop; at the edge the next row
                // starts where the tab ends (never more than a row's width away).
                let spaces = TAB - column % TAB;
                for _ in 0..spaces {
                    if column + 1 > width {
                        rows.push(std::mem::take(&mut row));
                        column = 0;
                    }
                    row.push(' ');
                    column += 1;
                }
            }
        }
    }
    if coloured {
        row.push_str("\u{1b}[0m");
    }
    rows.push(row);
    rows
}

/// `line` cut to at most `width` columns (an ellipsis ends what was cut), as [`fit`] measures.
pub(crate) fn truncate(line: &str, width: usize) -> String {
    let width = width.max(1);
    let rows = fit(line, usize::MAX);
    let whole = rows.into_iter().next().unwrap_or_default();
    if display_width(&whole) <= width {
        return whole;
    }
    let mut out = String::new();
    let mut column = 0;
    for piece in pieces(&whole) {
        match piece {
            Piece::Colour(code) => out.push_str(code),
            Piece::Char(c, w) => {
                if column + w > width - 1 {
                    break;
                }
                out.push(c);
                column += w;
            }
            Piece::Tab => unreachable!("fit expanded every tab"),
        }
    }
    out.push('…');
    if out.contains('\u{1b}') {
        // Whatever colour was on when the cut came, it ends with the row.
        out.push_str("\u{1b}[0m");
    }
    out
}

/// Columns `text` takes on a terminal once [`fit`] has made it safe: its characters' widths,
/// escape sequences none.
pub(crate) fn display_width(text: &str) -> usize {
    pieces(text)
        .map(|piece| match piece {
            Piece::Char(_, w) => w,
            Piece::Tab => TAB,
            Piece::Colour(_) => 0,
        })
        .sum()
}

/// `text` without any escape sequence or control character but tabs: for output that is not a
/// terminal (a file, a pipe), where a function's colour codes are only noise.
pub(crate) fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for piece in pieces(text) {
        match piece {
            Piece::Colour(_) => {}
            Piece::Char(c, _) => out.push(c),
            Piece::Tab => out.push('\t'),
        }
    }
    out
}

enum Piece<'a> {
    /// A colour (SGR) escape sequence: no width.
    Colour(&'a str),
    /// A printable character and its width.
    Char(char, usize),
    Tab,
}

/// The pieces of `text` that reach the terminal: colours, tabs and printable characters; other
/// escape sequences and control characters are dropped.
fn pieces(text: &str) -> impl Iterator<Item = Piece<'_>> {
    AnsiCodeIterator::new(text).flat_map(|(part, is_escape)| {
        let (colour, chars) = if is_escape {
            (is_colour(part).then_some(part), "")
        } else {
            (None, part)
        };
        colour
            .map(Piece::Colour)
            .into_iter()
            .chain(chars.chars().filter_map(|c| match c {
                '\t' => Some(Piece::Tab),
                // Control characters (carriage return, backspace, bell, …) move the cursor or
                // nothing; unicode-width gives them no width.
                c => c.width().map(|w| Piece::Char(c, w)),
            }))
    })
}

/// `ESC [ <digits and ;> m`: sets colours or attributes, moves nothing.
fn is_colour(sequence: &str) -> bool {
    sequence
        .strip_prefix("\u{1b}[")
        .and_then(|rest| rest.strip_suffix('m'))
        .is_some_and(|params| params.bytes().all(|b| b.is_ascii_digit() || b == b';'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How a terminal `width` columns wide lays out `text`: the rows it takes, with tab stops
    /// every 8 columns, wide characters wrapped whole, colours taking no room.
    fn terminal_rows(text: &str, width: usize) -> usize {
        let mut rows = 1;
        let mut column = 0;
        for piece in pieces(text) {
            let w = match piece {
                Piece::Colour(_) => continue,
                Piece::Char(_, w) => w,
                Piece::Tab => TAB - column % TAB,
            };
            if column + w > width {
                rows += 1;
                column = 0;
            }
            column += w;
        }
        rows
    }

    /// Every row fits: what indicatif counts (one per row) is what the terminal shows.
    fn assert_fits(rows: &[String], width: usize) {
        for row in rows {
            assert!(!row.contains('\t'), "tabs expanded: {row:?}");
            assert!(
                display_width(row) <= width,
                "{row:?} is {} columns, wider than {width}",
                display_width(row)
            );
            assert_eq!(terminal_rows(row, width), 1, "{row:?}");
        }
    }

    #[test]
    fn tabs_expand_to_the_terminals_tab_stops() {
        // Lambda's REPORT line: tab-separated fields.
        let report = "REPORT RequestId: 8f5a\tDuration: 1.25 ms\tBilled Duration: 2 ms";
        let rows = fit(report, 120);
        assert_eq!(
            rows,
            ["REPORT RequestId: 8f5a  Duration: 1.25 ms       Billed Duration: 2 ms"]
        );
        assert_fits(&rows, 120);
        // Counted as a terminal counts it: the tabs are not zero columns wide.
        assert_eq!(display_width(&rows[0]), 69);
        assert_eq!(fit("a\tb", 80), ["a       b"]);
    }

    #[test]
    fn a_tab_line_wider_than_the_terminal_wraps_at_its_width() {
        let line = "x\t".repeat(20);
        let rows = fit(&line, 30);
        assert_fits(&rows, 30);
        // Tab stops count from each row's first column, as on a terminal that wraps the line.
        assert_eq!(&rows[1][..8], "  x     ");
        assert_eq!(rows.concat().matches('x').count(), 20, "nothing lost");
    }

    #[test]
    fn wide_characters_count_two_columns_and_wrap_whole() {
        // 注文 (CJK) and 📦 (emoji) are two columns each.
        assert_eq!(display_width("注文 📦"), 7);
        let rows = fit("注文注文注", 5);
        assert_eq!(
            rows,
            ["注文", "注文", "注"],
            "never half a character at the edge"
        );
        assert_fits(&rows, 5);
        let rows = fit("order 📦📦📦 shipped", 9);
        assert_fits(&rows, 9);
        assert_eq!(rows.concat(), "order 📦📦📦 shipped");
    }

    #[test]
    fn lines_longer_than_the_terminal_wrap_into_rows_that_fit() {
        let line = "a".repeat(250);
        let rows = fit(&line, 80);
        assert_eq!(
            rows.iter().map(String::len).collect::<Vec<_>>(),
            [80, 80, 80, 10]
        );
        assert_fits(&rows, 80);
        assert_eq!(fit("", 80), [""], "an empty line is one row");
    }

    #[test]
    fn colours_are_kept_and_take_no_room_other_escapes_and_controls_go() {
        let line = "\u{1b}[2m2026\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m done\r\u{1b}[2K\u{7}";
        let rows = fit(line, 80);
        assert_eq!(
            rows,
            ["\u{1b}[2m2026\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m done"]
        );
        assert_eq!(display_width(&rows[0]), 15);
        // A colour left on is reset at the end of the line.
        assert_eq!(fit("\u{1b}[31mred", 80), ["\u{1b}[31mred\u{1b}[0m"]);
        // Cut to 8 columns: colours kept, the row ends with a reset.
        assert_eq!(
            truncate(line, 8),
            "\u{1b}[2m2026\u{1b}[0m \u{1b}[32m I…\u{1b}[0m"
        );
    }

    #[test]
    fn table_rows_are_cut_to_the_width_with_an_ellipsis() {
        assert_eq!(
            truncate("Orders  Enabled  1.5s", 100),
            "Orders  Enabled  1.5s"
        );
        assert_eq!(truncate("Orders  Enabled  1.5s", 10), "Orders  E…");
        assert_eq!(truncate("last error:\tboom", 14), "last error:  …");
        assert_eq!(truncate("注文注文", 5), "注文…");
        for (row, width) in [
            (truncate("a\tb\tc\td", 12), 12),
            (truncate(&"📦".repeat(50), 7), 7),
        ] {
            assert_fits(&[row], width);
        }
    }

    #[test]
    fn plain_text_has_no_escape_sequences() {
        assert_eq!(
            plain("\u{1b}[2m2026-12-02\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m order processed\r"),
            "2026-12-02  INFO order processed"
        );
        assert_eq!(plain("REPORT\tDuration: 1 ms"), "REPORT\tDuration: 1 ms");
        assert_eq!(plain("\u{1b}]0;title\u{7}注文"), "注文");
    }
}
