//! The one way a service declares its closed set of operations: [`actions!`] writes the
//! `Action` enum, its `ALL` list, `as_str`, and the `FromStr` that parses the operation name
//! from `X-Amz-Target` (the part after the service prefix) and refuses any other name with the
//! service's own unknown-operation message.
//!
//! Invariant: an operation name is compared as a string only in the generated `from_str`;
//! everything after parsing dispatches on the enum, so adding an operation is one new name in the
//! list, and every `match` on the enum must then handle it.

/// Declares `pub enum Action` with one variant per AWS operation name.
///
/// ```ignore
/// crate::action::actions! {
///     /// One Kinesis operation.
///     unknown = |other| format!("Operation {other} is not supported by this Kinesis endpoint.");
///     CreateStream,
///     /// A variant may have docs of its own.
///     DeleteStream,
/// }
/// ```
macro_rules! actions {
    (
        $(#[$doc:meta])*
        unknown = |$other:ident| $message:expr;
        $($(#[$variant_doc:meta])* $name:ident),+ $(,)?
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $(
                #[doc = concat!("`", stringify!($name), "`.")]
                $(#[$variant_doc])*
                $name,
            )+
        }

        impl Action {
            /// Every operation the emulator implements.
            pub const ALL: &'static [Action] = &[$(Action::$name),+];

            /// The operation name as AWS spells it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$name => stringify!($name),)+
                }
            }
        }

        impl std::str::FromStr for Action {
            /// `UnknownOperationException` in the service's words.
            type Err = $crate::error::ApiError;

            fn from_str(operation: &str) -> Result<Self, Self::Err> {
                match operation {
                    $(stringify!($name) => Ok(Action::$name),)+
                    $other => Err($crate::error::ApiError::new(
                        $crate::error::ErrorCode::UnknownOperationException,
                        $message,
                    )),
                }
            }
        }
    };
}

pub(crate) use actions;
