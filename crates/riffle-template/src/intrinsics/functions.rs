//! The intrinsic functions that compute a value from their arguments: `Fn::Sub`, `Fn::Join`,
//! `Fn::Select`, `Fn::Split`, `Fn::If` and `Fn::FindInMap`.
//!
//! Invariant: each gives what CloudFormation gives for the same arguments, or records why it
//! cannot at the place the function is written; `AWS::NoValue` items drop out of lists.

use super::*;

impl<'t> Resolver<'t> {
    pub(super) fn call(
        &mut self,
        function: &str,
        argument: &Node,
        at: Pos,
        scope: &Scope<'_>,
    ) -> Resolved {
        match function {
            "Ref" => self.reference(argument, at, scope),
            "Fn::GetAtt" => self
                .get_att(argument, at, scope)
                .map(|text| Some(Node::str(text, at))),
            "Fn::Sub" => self
                .sub(argument, at, scope)
                .map(|text| Some(Node::str(text, at))),
            "Fn::Join" => self
                .join(argument, at, scope)
                .map(|text| Some(Node::str(text, at))),
            "Fn::Select" => self.select(argument, at, scope),
            "Fn::Split" => self.split(argument, at, scope).map(Some),
            "Fn::If" => self.if_(argument, at, scope),
            "Fn::FindInMap" => self.find_in_map(argument, at, scope),
            "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" | "Condition" => Err(self.sink.error(
                at,
                scope,
                Problem::InvalidIntrinsic {
                    name: function.to_owned(),
                    reason: "condition functions belong in the Conditions section (use \
                                 Fn::If with a named condition here)"
                        .to_owned(),
                },
            )),
            "Fn::ImportValue" => Err(self.unsupported(
                function,
                "it reads another stack's exports, which do not exist locally; pass the value \
                 as a parameter instead",
                at,
                scope,
            )),
            "Fn::GetAZs" => Err(self.unsupported(
                function,
                "availability zones have no local meaning",
                at,
                scope,
            )),
            "Fn::Base64" | "Fn::Cidr" | "Fn::Length" | "Fn::ToJsonString" | "Fn::Transform"
            | "Fn::ForEach" => Err(self.unsupported(
                function,
                "Riffle resolves Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select, Fn::Split, \
                 Fn::If and Fn::FindInMap",
                at,
                scope,
            )),
            other => Err(self.sink.error(
                at,
                scope,
                Problem::UnknownIntrinsic {
                    name: other.to_owned(),
                },
            )),
        }
    }

    fn sub(&mut self, argument: &Node, at: Pos, scope: &Scope<'_>) -> Result<String, Failed> {
        let usage = "takes a string, or [string, {Name: value, …}]";
        let (template, variables) = match &argument.value {
            Value::Str(text) => (text.as_str(), None),
            Value::Seq(items) if items.len() == 2 => {
                match (items[0].as_str(), items[1].entries()) {
                    (Some(text), Some(entries)) => (text, Some(entries)),
                    _ => return Err(self.invalid("Fn::Sub", usage, at, scope)),
                }
            }
            _ => return Err(self.invalid("Fn::Sub", usage, at, scope)),
        };
        let mut failed = false;
        let mut values = BTreeMap::new();
        for entry in variables.unwrap_or_default() {
            match self.resolve_text(&entry.value, &scope.child(&entry.key)) {
                Ok(text) => {
                    values.insert(entry.key.as_str(), text);
                }
                Err(Failed) => failed = true,
            }
        }
        let mut output = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            output.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            if let Some(literal) = after.strip_prefix('!') {
                output.push_str("${");
                rest = literal;
                continue;
            }
            let Some(end) = after.find('}') else {
                output.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = after[..end].trim();
            match self.sub_variable(name, &values, at, scope) {
                Ok(text) => output.push_str(&text),
                Err(Failed) => failed = true,
            }
            rest = &after[end + 1..];
        }
        output.push_str(rest);
        if failed { Err(Failed) } else { Ok(output) }
    }

    pub(super) fn sub_variable(
        &mut self,
        name: &str,
        values: &BTreeMap<&str, String>,
        at: Pos,
        scope: &Scope<'_>,
    ) -> Result<String, Failed> {
        if let Some(text) = values.get(name) {
            return Ok(text.clone());
        }
        if !name.starts_with("AWS::")
            && !self.parameters.contains_key(name)
            && let Some((id, attribute)) = name.split_once('.')
        {
            return self.attribute(id, attribute, at, scope);
        }
        let reference = Node::str(name, at);
        match self.reference(&reference, at, scope)? {
            Some(value) => match value.scalar_text() {
                Some(text) => Ok(text.into_owned()),
                None => Err(self.sink.error(
                    at,
                    scope,
                    Problem::InvalidIntrinsic {
                        name: "Fn::Sub".to_owned(),
                        reason: format!("${{{name}}} is a list; Fn::Sub takes strings only"),
                    },
                )),
            },
            None => {
                let reason = "${AWS::NoValue} cannot be substituted";
                Err(self.invalid("Fn::Sub", reason, at, scope))
            }
        }
    }

    /// Resolves `node` and requires a list.
    fn resolve_list(
        &mut self,
        node: &Node,
        function: &str,
        scope: &Scope<'_>,
    ) -> Result<Vec<Node>, Failed> {
        match self.resolve(node, scope)? {
            Some(Node {
                value: Value::Seq(items),
                ..
            }) => Ok(items),
            other => {
                let found = other.map_or_else(|| "AWS::NoValue".to_owned(), |n| n.describe());
                Err(self.invalid(
                    function,
                    &format!("expected a list, found {found}"),
                    node.at,
                    scope,
                ))
            }
        }
    }

    fn join(&mut self, argument: &Node, at: Pos, scope: &Scope<'_>) -> Result<String, Failed> {
        let Some([delimiter, list]) = argument.items() else {
            return Err(self.invalid("Fn::Join", "takes [delimiter, [value, …]]", at, scope));
        };
        let delimiter = self.resolve_text(delimiter, scope)?;
        let items = self.resolve_list(list, "Fn::Join", scope)?;
        let mut parts = Vec::with_capacity(items.len());
        for item in &items {
            parts.push(self.text(item, scope)?);
        }
        Ok(parts.join(&delimiter))
    }

    fn select(&mut self, argument: &Node, at: Pos, scope: &Scope<'_>) -> Resolved {
        let Some([index, list]) = argument.items() else {
            return Err(self.invalid("Fn::Select", "takes [index, [value, …]]", at, scope));
        };
        let index_text = self.resolve_text(index, scope)?;
        let Ok(position) = index_text.trim().parse::<usize>() else {
            return Err(self.invalid(
                "Fn::Select",
                &format!("the index must be a non-negative integer, found {index_text:?}"),
                at,
                scope,
            ));
        };
        let items = self.resolve_list(list, "Fn::Select", scope)?;
        let count = items.len();
        match items.into_iter().nth(position) {
            Some(item) => Ok(Some(item)),
            None => Err(self.invalid(
                "Fn::Select",
                &format!("index {position} is out of range for a list of {count}"),
                at,
                scope,
            )),
        }
    }

    fn split(&mut self, argument: &Node, at: Pos, scope: &Scope<'_>) -> Result<Node, Failed> {
        let Some([delimiter, source]) = argument.items() else {
            return Err(self.invalid("Fn::Split", "takes [delimiter, string]", at, scope));
        };
        let delimiter = self.resolve_text(delimiter, scope)?;
        let source = self.resolve_text(source, scope)?;
        if delimiter.is_empty() {
            return Err(self.invalid("Fn::Split", "the delimiter must not be empty", at, scope));
        }
        let items = source
            .split(delimiter.as_str())
            .map(|part| Node::str(part, at))
            .collect();
        Ok(Node::new(Value::Seq(items), at))
    }

    fn if_(&mut self, argument: &Node, at: Pos, scope: &Scope<'_>) -> Resolved {
        let Some([condition, when_true, when_false]) = argument.items() else {
            let reason = "takes [condition name, value if true, value if false]";
            return Err(self.invalid("Fn::If", reason, at, scope));
        };
        let Some(name) = condition.as_str() else {
            let reason = "the first argument must be the name of a condition";
            return Err(self.invalid("Fn::If", reason, at, scope));
        };
        if self.condition(name, condition.at, scope)? {
            self.resolve(when_true, scope)
        } else {
            self.resolve(when_false, scope)
        }
    }

    fn find_in_map(&mut self, argument: &Node, at: Pos, scope: &Scope<'_>) -> Resolved {
        let usage = "takes [MapName, TopLevelKey, SecondLevelKey] and optionally \
                     {DefaultValue: value}";
        let Some(arguments) = argument.items() else {
            return Err(self.invalid("Fn::FindInMap", usage, at, scope));
        };
        let (keys, default) = match arguments {
            [a, b, c] => ([a, b, c], None),
            [a, b, c, d] => match d.get("DefaultValue") {
                Some(entry) => ([a, b, c], Some(&entry.value)),
                None => return Err(self.invalid("Fn::FindInMap", usage, at, scope)),
            },
            _ => return Err(self.invalid("Fn::FindInMap", usage, at, scope)),
        };
        let mut names = Vec::with_capacity(3);
        for key in keys {
            names.push(self.resolve_text(key, scope)?);
        }
        let found = self
            .mappings
            .and_then(|mappings| mappings.get(&names[0]))
            .and_then(|map| map.value.get(&names[1]))
            .and_then(|top| top.value.get(&names[2]))
            .map(|entry| entry.value.clone());
        match (found, default) {
            (Some(value), _) => self.resolve(&value, scope),
            (None, Some(default)) => self.resolve(default, scope),
            (None, None) => Err(self.unresolvable(
                at,
                scope,
                format!("Mappings.{}.{}.{}", names[0], names[1], names[2]),
                "no such entry in the Mappings section".to_owned(),
            )),
        }
    }
}
