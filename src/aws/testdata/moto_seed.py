#!/usr/bin/env python3
"""Seeds moto (directly, with boto3) for moto_test.cc: an S3 bucket with transfer objects, a Lambda log
group with events, and Lambda metrics. usage: moto_seed.py ENDPOINT"""
import datetime
import sys

import boto3

kw = dict(endpoint_url=sys.argv[1], region_name="eu-west-2", aws_access_key_id="AKIASEED000000000000",
          aws_secret_access_key="seed")
s3 = boto3.client("s3", **kw)
s3.create_bucket(Bucket="villager-transfers", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
s3.put_object(Bucket="villager-transfers", Key="data/transfers/ab/abcd/meta.json", Body=b'{"file_size_bytes": 3}')
s3.put_object(Bucket="villager-transfers", Key="data/transfers/ab/abcd/payload", Body=bytes(range(256)))
s3.put_object(Bucket="villager-transfers", Key="data/transfers/cd/odd name ü&<>/payload", Body=b"odd")
s3.put_object(Bucket="villager-transfers", Key="elsewhere/x", Body=b"x")

logs = boto3.client("logs", **kw)
logs.create_log_group(logGroupName="/aws/lambda/fn")
logs.create_log_stream(logGroupName="/aws/lambda/fn", logStreamName="s1")
now = int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000)
logs.put_log_events(logGroupName="/aws/lambda/fn", logStreamName="s1",
                    logEvents=[{"timestamp": now - 2000, "message": "START RequestId: 1"},
                               {"timestamp": now - 1000, "message": "GET /info/health 200"}])

cw = boto3.client("cloudwatch", **kw)
when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=2)
dims = [{"Name": "FunctionName", "Value": "fn"}, {"Name": "Resource", "Value": "fn:live"}]
cw.put_metric_data(Namespace="AWS/Lambda", MetricData=[
    {"MetricName": "Errors", "Dimensions": dims, "Timestamp": when, "Value": 3},
    {"MetricName": "Errors", "Dimensions": dims, "Timestamp": when, "Value": 4},
    {"MetricName": "Invocations", "Dimensions": dims, "Timestamp": when, "Value": 100}])
print(now)
