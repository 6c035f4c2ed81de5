//! Intrinsic functions.

use super::*;

/// A function whose environment variables are the values under test.
fn environment_of(variables: &str, extra: &str) -> (String, Vec<(String, String)>) {
    let source = format!(
        "Transform: AWS::Serverless-2016-10-31
Parameters:
  Env:
    Type: String
    Default: dev
  Names:
    Type: CommaDelimitedList
    Default: a, b ,c
Mappings:
  Sizes:
    dev:
      Batch: 10
      Zones: [z1, z2]
Resources:
{STREAM}{QUEUE}{extra}{BARE_FUNCTION}      Environment:
        Variables:
{variables}"
    );
    let template = read_ok(&source);
    let environment = template.application.functions[0].environment.clone();
    (source, environment)
}

#[test]
fn ref_and_get_att_in_short_and_long_forms() {
    let (_, environment) = environment_of(
        "          STREAM_NAME: !Ref Stream
          STREAM_NAME_LONG: {Ref: Stream}
          QUEUE_URL: !Ref Queue
          STREAM_ARN: !GetAtt Stream.Arn
          STREAM_ARN_LIST: !GetAtt [Stream, Arn]
          STREAM_ARN_LONG: {'Fn::GetAtt': [Stream, Arn]}
          QUEUE_ARN: !GetAtt Queue.Arn
          QUEUE_NAME: !GetAtt Queue.QueueName
          QUEUE_URL_ATTR: {'Fn::GetAtt': Queue.QueueUrl}
          FUNCTION_NAME: !Ref Fn
          FUNCTION_ARN: !GetAtt Fn.Arn
          REGION: !Ref AWS::Region
          ACCOUNT: {Ref: 'AWS::AccountId'}
          PARAMETER: !Ref Env
",
        "",
    );
    assert_eq!(
        environment,
        env(&[
            ("STREAM_NAME", "orders"),
            ("STREAM_NAME_LONG", "orders"),
            ("QUEUE_URL", "http://127.0.0.1:4566/000000000000/jobs"),
            (
                "STREAM_ARN",
                "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
            ),
            (
                "STREAM_ARN_LIST",
                "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
            ),
            (
                "STREAM_ARN_LONG",
                "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
            ),
            ("QUEUE_ARN", "arn:aws:sqs:us-east-1:000000000000:jobs"),
            ("QUEUE_NAME", "jobs"),
            ("QUEUE_URL_ATTR", "http://127.0.0.1:4566/000000000000/jobs"),
            ("FUNCTION_NAME", "riffle-Fn"),
            (
                "FUNCTION_ARN",
                "arn:aws:lambda:us-east-1:000000000000:function:riffle-Fn"
            ),
            ("REGION", "us-east-1"),
            ("ACCOUNT", "000000000000"),
            ("PARAMETER", "dev"),
        ])
    );
}

#[test]
fn sub_in_both_forms_with_pseudo_parameters_resources_and_escapes() {
    let (_, environment) = environment_of(
        "          PSEUDO: !Sub '${AWS::Partition}:${AWS::Region}:${AWS::AccountId}:${AWS::StackName}:${AWS::URLSuffix}'
          RESOURCES: !Sub '${Stream}|${Queue}|${Queue.Arn}|${Fn}|${Env}'
          ESCAPED: !Sub 'literal ${!NotAVariable} and $ alone'
          VARIABLES: !Sub
            - '${Prefix}-${Name}-${AWS::Region}'
            - Prefix: !Ref Env
              Name: !GetAtt Queue.QueueName
          LONG: {'Fn::Sub': 'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Queue.QueueName}'}
          STACK_ID: !Ref AWS::StackId
",
        "",
    );
    assert_eq!(
        environment,
        env(&[
            ("PSEUDO", "aws:us-east-1:000000000000:riffle:amazonaws.com"),
            (
                "RESOURCES",
                "orders|http://127.0.0.1:4566/000000000000/jobs|arn:aws:sqs:us-east-1:000000000000:jobs|riffle-Fn|dev"
            ),
            ("ESCAPED", "literal ${NotAVariable} and $ alone"),
            ("VARIABLES", "dev-jobs-us-east-1"),
            ("LONG", "arn:aws:sqs:us-east-1:000000000000:jobs"),
            (
                "STACK_ID",
                "arn:aws:cloudformation:us-east-1:000000000000:stack/riffle/00000000-0000-0000-0000-000000000000"
            ),
        ])
    );
}

#[test]
fn join_select_split_and_find_in_map() {
    let (_, environment) = environment_of(
        "          JOINED: !Join ['-', [a, !Ref Env, !GetAtt Queue.QueueName, 7]]
          JOINED_LONG: {'Fn::Join': [',', {'Fn::Split': ['|', 'x|y|z']}]}
          SELECTED: !Select [1, !Split [',', 'a,b,c']]
          SELECTED_PARAMETER: !Select ['2', !Ref Names]
          LIST_PARAMETER: !Join ['+', !Ref Names]
          MAPPED: !FindInMap [Sizes, !Ref Env, Batch]
          MAPPED_LIST: !Select [0, !FindInMap [Sizes, dev, Zones]]
          MAPPED_DEFAULT: !FindInMap [Sizes, prod, Batch, {DefaultValue: 99}]
          NO_VALUE_DROPPED: !Join ['', [a, !Ref AWS::NoValue, b]]
",
        "",
    );
    assert_eq!(
        environment,
        env(&[
            ("JOINED", "a-dev-jobs-7"),
            ("JOINED_LONG", "x,y,z"),
            ("SELECTED", "b"),
            ("SELECTED_PARAMETER", "c"),
            ("LIST_PARAMETER", "a+b+c"),
            ("MAPPED", "10"),
            ("MAPPED_LIST", "z1"),
            ("MAPPED_DEFAULT", "99"),
            ("NO_VALUE_DROPPED", "ab"),
        ])
    );
}

#[test]
fn local_facts_come_from_the_options() {
    let source = sam(&format!(
        "{STREAM}{QUEUE}  Unnamed:
    Type: AWS::Kinesis::Stream
  UnnamedFifo:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
"
    ));
    let options = Options {
        region: "eu-west-1".into(),
        account_id: "123456789012".into(),
        stack_name: "shop".into(),
        queue_url_base: "http://localhost:9324/".into(),
        ..options()
    };
    let app = read(&source, &options).unwrap().application;
    assert_eq!(
        app.streams[0].arn,
        "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"
    );
    assert_eq!(app.streams[1].name, "shop-Unnamed");
    assert_eq!(app.queues[0].url, "http://localhost:9324/123456789012/jobs");
    assert_eq!(app.queues[1].name, "shop-UnnamedFifo.fifo");
    assert_eq!(
        app.queues[1].arn,
        "arn:aws:sqs:eu-west-1:123456789012:shop-UnnamedFifo.fifo"
    );
    assert!(app.queues[1].fifo);
}
