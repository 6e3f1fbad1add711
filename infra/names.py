"""Physical names and ARNs of an environment's resources, and the `${Token}` values.

Every name and ARN is computed here from the registry, so that policies, definitions and the
plan can be built without calling AWS (the ARNs of resources that do not exist yet are known).
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.environments import ConfigError, Environment
from workflows.registry import (
    ALERTS_TOPIC,
    ENVIRONMENT,
    EXECUTION_LINK,
    SHARED,
    Bucket,
    Function,
    Resource,
    StateMachine,
    Stream,
    StreamTrigger,
    Table,
    Topic,
    Workflow,
    unknown,
)

# AWS's limits on the names deploy builds (IAM roles and Lambda functions: 64).
MAX_NAME = 64
# The AWS console's domain in each partition
CONSOLES = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}
# AWS's Powertools layer in its main partition; China and GovCloud publish it under other accounts
POWERTOOLS_LAYER = (
    "arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python311-x86_64:27"
)


@dataclass(frozen=True)
class Names:
    env: Environment
    account: str
    partition: str = "aws"

    def powertools_layer(self) -> str:
        """The environment's `powertools_layer`, else AWS's in its main partition; in another
        partition it must be set, or every function would name a layer that is not there."""
        if self.env.powertools_layer:
            return self.env.powertools_layer.format(region=self.env.region)
        if self.partition != "aws":
            raise ConfigError(
                f"environment {self.env.name!r} deploys to the {self.partition} partition, where AWS "
                "publishes its Powertools layer under another ARN: set powertools_layer in "
                "environments.toml (Powertools' documentation lists it per partition)"
            )
        return POWERTOOLS_LAYER.format(region=self.env.region)

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.env.region if regional else ""
        account = self.account if service != "s3" else ""
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"

    # -- workflow resources (tables, topics, buckets, streams and the environment's shared ones)
    def resource(self, wf: Workflow, logical: str) -> str:
        if logical in SHARED:
            return self.env.resource_name(logical)
        return self.env.resource_name(wf.name, logical)

    def resource_arn(self, wf: Workflow, logical: str) -> str:
        kind, name = _declared(wf, logical), self.resource(wf, logical)
        if isinstance(kind, StateMachine):
            return self.state_machine_arn(wf)
        if isinstance(kind, Table):
            return self.arn("dynamodb", f"table/{name}")
        if isinstance(kind, Topic):
            return self.arn("sns", name)
        if isinstance(kind, Bucket):
            return self.arn("s3", name, regional=False)
        return self.arn("kinesis", f"stream/{name}")

    def value(self, wf: Workflow, logical: str) -> str:
        """What code and definitions receive: table/bucket name, topic/stream ARN."""
        kind = _declared(wf, logical)
        return (
            self.resource_arn(wf, logical)
            if isinstance(kind, Topic | Stream | StateMachine)
            else self.resource(wf, logical)
        )

    def alerts_topic_arn(self) -> str:
        return self.arn("sns", self.env.resource_name(ALERTS_TOPIC))

    # -- functions, state machines, roles, logs
    def function(self, wf: Workflow, fn: Function) -> str:
        return self.env.resource_name(wf.name, fn.name)

    def function_arn(self, wf: Workflow, fn: Function, qualifier: str | None = None) -> str:
        arn = self.arn("lambda", f"function:{self.function(wf, fn)}")
        return f"{arn}:{qualifier}" if qualifier else arn

    def alias_arn(self, wf: Workflow, fn: Function) -> str:
        """What the state machine invokes: the function qualified with the environment's alias."""
        return self.function_arn(wf, fn, self.env.name)

    def state_machine(self, wf: Workflow) -> str:
        return self.env.resource_name(wf.name)

    def state_machine_arn(self, wf: Workflow) -> str:
        return self.arn("states", f"stateMachine:{self.state_machine(wf)}")

    def dead_letter_queue(self, wf: Workflow, trigger: StreamTrigger) -> str:
        return dead_letter_queue(self.env, wf.name, trigger.stream)

    def dead_letter_queue_arn(self, wf: Workflow, trigger: StreamTrigger) -> str:
        return self.arn("sqs", self.dead_letter_queue(wf, trigger))

    def role(self, *parts: str) -> str:
        return self.env.resource_name(*parts)

    def role_arn(self, name: str) -> str:
        return self.arn("iam", f"role/{name}", regional=False)

    def function_log_group(self, wf: Workflow, fn: Function) -> str:
        return f"/aws/lambda/{self.function(wf, fn)}"

    def state_machine_log_group(self, wf: Workflow) -> str:
        return f"/aws/vendedlogs/states/{self.state_machine(wf)}"

    def api_log_group(self) -> str:
        """Where the HTTP API writes its access log."""
        return f"/aws/apigateway/{self.env.resource_name('api')}"

    def log_group_arn(self, name: str) -> str:
        return self.arn("logs", f"log-group:{name}:*")

    def tokens(self, wf: Workflow) -> dict[str, str]:
        """`${Token}` -> value for the workflow's definition."""
        values = {fn.token: self.alias_arn(wf, fn) for fn in wf.functions}
        values.update((r.token, self.value(wf, logical)) for logical, r in wf.resources().items())
        values[EXECUTION_LINK] = self.execution_link()
        values[ENVIRONMENT] = self.env.name
        return values

    def execution_link(self) -> str:
        """The address of the page that shows an execution, its ARN to be appended."""
        if self.env.endpoint:
            return f"{self.env.console}#/executions/"
        console = CONSOLES.get(self.partition, CONSOLES["aws"])
        return f"https://{console}/states/home?region={self.env.region}#/v2/executions/details/"

    def check(self, wf: Workflow) -> None:
        """Names AWS would reject stop the deploy before any change."""
        limits = [(self.role(wf.name, "sfn"), MAX_NAME), (self.state_machine(wf), 80)]
        limits += [(self.function(wf, fn), MAX_NAME) for fn in wf.functions]
        limits += [(self.role(wf.name, "scheduler"), MAX_NAME)]
        limits += [
            (self.role(wf.name, s.stream, "pipe"), MAX_NAME)
            for s in wf.triggers
            if isinstance(s, StreamTrigger)
        ]
        limits += [
            (self.dead_letter_queue(wf, s), 80)  # SQS's limit
            for s in wf.triggers
            if isinstance(s, StreamTrigger)
        ]
        limits += [(self.resource(wf, b.name), 63) for b in wf.buckets]  # S3's limit
        for name, limit in limits:
            if len(name) > limit:
                raise ConfigError(
                    f"workflow {wf.name}: name {name!r} is {len(name)} characters, AWS allows {limit}"
                )


def dead_letter_queue(env: Environment, workflow: str, stream: str) -> str:
    """The SQS queue where the pipe from `stream` describes the batches it gave up on (its alarm
    has its name too)."""
    return env.resource_name(workflow, stream, "dead-letters")


def _declared(wf: Workflow, logical: str) -> Resource:
    resources = wf.resources()
    if logical not in resources:
        raise ConfigError(f"workflow {wf.name}: no resource named {unknown(logical, resources)}")
    return resources[logical]
