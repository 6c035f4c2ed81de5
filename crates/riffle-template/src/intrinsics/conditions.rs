//! Conditions: the `Conditions` section and `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or` and
//! `Condition` in it.
//!
//! Invariant: a condition is evaluated once (a memo per name) and one that refers to itself is
//! reported as circular; conditions see parameters and pseudo parameters only.

use super::*;

impl<'t> Resolver<'t> {
    /// The value of the named condition (evaluated once).
    pub(crate) fn condition(
        &mut self,
        name: &str,
        at: Pos,
        scope: &Scope<'_>,
    ) -> Result<bool, Failed> {
        let memo = self.conditions.get(name).cloned();
        let cycle = "circular condition: it depends on itself";
        if let Some(known) = self.recall(memo, name, cycle, at, scope) {
            return known;
        }
        let Some(expression) = self.condition_expressions.get(name).copied() else {
            return Err(self.unresolvable(
                at,
                scope,
                name.to_owned(),
                "no condition of this name in the Conditions section".to_owned(),
            ));
        };
        self.conditions.insert(name.to_owned(), Memo::InProgress);
        let saved = self.in_condition;
        self.in_condition = true;
        let scope = Scope::section(&format!("Conditions.{name}"));
        let value = self.evaluate(expression, &scope);
        self.in_condition = saved;
        self.conditions.insert(name.to_owned(), Memo::of(&value));
        value
    }

    fn evaluate(&mut self, expression: &Node, scope: &Scope<'_>) -> Result<bool, Failed> {
        let Some((function, argument)) = expression.intrinsic() else {
            return Err(self.invalid(
                "condition",
                &format!(
                    "a condition is Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition, found {}",
                    expression.describe()
                ),
                expression.at,
                scope,
            ));
        };
        let at = expression.at;
        match function {
            "Fn::Equals" => {
                let Some([left, right]) = argument.items() else {
                    return Err(self.invalid("Fn::Equals", "takes [value, value]", at, scope));
                };
                let left = self.resolve(left, scope);
                let right = self.resolve(right, scope);
                let (left, right) = (left?, right?);
                Ok(left.as_ref().map(comparable) == right.as_ref().map(comparable))
            }
            "Fn::Not" => {
                let Some([inner]) = argument.items() else {
                    return Err(self.invalid("Fn::Not", "takes [condition]", at, scope));
                };
                Ok(!self.evaluate(inner, scope)?)
            }
            "Fn::And" | "Fn::Or" => {
                let items = argument.items().unwrap_or_default();
                if !(2..=10).contains(&items.len()) {
                    return Err(self.invalid(function, "takes 2 to 10 conditions", at, scope));
                }
                let mut values = Vec::with_capacity(items.len());
                let mut failed = false;
                for item in items {
                    match self.evaluate(item, scope) {
                        Ok(value) => values.push(value),
                        Err(Failed) => failed = true,
                    }
                }
                if failed {
                    return Err(Failed);
                }
                Ok(if function == "Fn::And" {
                    values.iter().all(|v| *v)
                } else {
                    values.iter().any(|v| *v)
                })
            }
            "Condition" => {
                let Some(name) = argument.as_str() else {
                    let reason = "takes the name of a condition";
                    return Err(self.invalid("Condition", reason, at, scope));
                };
                self.condition(name, at, scope)
            }
            _ => {
                let reason = "not allowed in a condition (use Fn::Equals, Fn::Not, Fn::And, Fn::Or or \
                 Condition)";
                Err(self.invalid(function, reason, at, scope))
            }
        }
    }
}

/// A value as `Fn::Equals` compares it: scalars by their string form.
fn comparable(node: &Node) -> serde_json::Value {
    match &node.value {
        Value::Seq(items) => items.iter().map(comparable).collect(),
        Value::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|entry| (entry.key.clone(), comparable(&entry.value)))
                .collect(),
        ),
        _ => node.scalar_text().map_or(serde_json::Value::Null, |text| {
            serde_json::Value::String(text.into_owned())
        }),
    }
}
