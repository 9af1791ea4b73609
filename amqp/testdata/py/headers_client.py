#!/usr/bin/env python3
"""One RPC call with message headers, as a pika program sends them.

Publishes BODY to QUEUE with a reply_to, a correlation_id, the type
property METHOD (the text codec's method) and the headers of the JSON
object HEADERS (strings, ints, floats and booleans travel as pika's own
AMQP types), waits for the reply and prints its body.
usage: headers_client.py AMQP_URL QUEUE METHOD BODY HEADERS_JSON
"""
import json
import sys
import time
import uuid

import pika


def main():
    url, queue, method, body, headers = sys.argv[1:6]
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    callback = channel.queue_declare(queue="", exclusive=True).method.queue
    corr_id = str(uuid.uuid4())
    reply = {}

    def on_response(ch, deliver, props, data):
        if props.correlation_id == corr_id:
            reply["body"] = data

    channel.basic_consume(queue=callback, on_message_callback=on_response, auto_ack=True)
    channel.basic_publish(
        exchange="",
        routing_key=queue,
        properties=pika.BasicProperties(
            reply_to=callback, correlation_id=corr_id, type=method, headers=json.loads(headers)
        ),
        body=body,
    )
    deadline = time.monotonic() + 20
    while "body" not in reply:
        left = deadline - time.monotonic()
        if left <= 0:
            sys.exit("no reply in 20s")
        connection.process_data_events(time_limit=left)
    connection.close()
    print(reply["body"].decode())


if __name__ == "__main__":
    main()
