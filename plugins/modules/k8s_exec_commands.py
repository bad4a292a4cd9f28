#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_exec_commands
short_description: Run several commands in containers in one call, concurrently
version_added: 0.1.0
author:
  - sre.runbooks maintainers (@sre-runbooks)
description:
  - Runs every command of O(commands) in its pod and container through the API server's
    C(exec) subresource, at most O(workers) at a time, each within O(timeout) seconds, and
    returns each command's output and exit code in RV(outputs), in the order given.
  - Why it exists - M(kubernetes.core.k8s_exec) runs one command per task, and every task forks
    an interpreter that imports the kubernetes client again (seconds each on a loaded machine).
    A runbook's diagnostic commands (disk usage, log sizes, database statistics) run here in one
    task and one interpreter.
  - A command's exit code is a result, not a failure (RV(outputs[].rc)). A command that could not
    run at all (pod or container missing, exec refused, O(timeout) passed) has no
    RV(outputs[].rc) but RV(outputs[].error); the other commands run all the same, and the task
    itself does not fail. RV(failures) names those commands and RV(msg) says why.
  - "Check mode: the commands run only with O(read_only=true), which says that they change
    nothing. Otherwise none runs, each output has RV(outputs[].skip_reason), and RV(msg) says so."
options:
  commands:
    description: The commands; each result carries its O(commands[].name).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: A name for the command, unique in O(commands).
        type: str
        required: true
      namespace:
        description: Namespace of the pod (default O(namespace)).
        type: str
      pod:
        description: Name of the pod.
        type: str
        required: true
      container:
        description: Container in the pod (default O(container), then the pod's first container).
        type: str
      command:
        description:
          - The command, as an argument list or as a string split like a shell would (no shell
            runs it; use V(sh -c '...') for pipes).
        type: raw
        required: true
  namespace:
    description: Namespace of every command that gives none.
    type: str
  container:
    description: Container of every command that gives none.
    type: str
  read_only:
    description:
      - Whether the commands only read. Read-only commands run in check mode and never report a
        change; others report a change when any of them ran.
    type: bool
    default: false
  timeout:
    description: Seconds each command may run; a command still running then is stopped and fails.
    type: float
    default: 60
  workers:
    description: How many commands run at the same time.
    type: int
    default: 4
notes:
  - Each worker thread streams through an API client of its own, built from the same
    configuration, because the C(kubernetes) library's C(stream()) swaps a method of the client
    it uses for the length of a call.
  - Like M(kubernetes.core.k8s_exec), the exec connection carries the credentials but not the
    O(impersonate_user) and O(impersonate_groups) headers.
extends_documentation_fragment:
  - sre.runbooks.k8s_auth
  - sre.runbooks.attributes.K8S_GROUP
attributes:
  check_mode:
    description:
      - Can run in check_mode and return changed status prediction without modifying target.
    support: partial
    details: The commands run in check mode only with O(read_only=true).
  diff_mode:
    description: Will return details on what has changed when in diff mode.
    support: none
  idempotent:
    description: Running the module twice with the same options changes nothing the second time.
    support: partial
    details: Depends on the commands; read-only commands never change anything.
"""

EXAMPLES = r"""
- name: Disk diagnostics of a pod in one task
  sre.runbooks.k8s_exec_commands:
    namespace: nimify-system
    commands:
      - name: disk_usage
        pod: nimify-api-0
        command: df -h /data
      - name: large_directories
        pod: nimify-api-0
        command: [sh, -c, "du -sh /data/* | sort -rh | head -5"]
    read_only: true
  register: disk

- name: Show the usage
  ansible.builtin.debug:
    msg: "{{ (disk.outputs | selectattr('name', 'eq', 'disk_usage') | first).stdout_lines }}"

- name: Fail when a command could not run
  ansible.builtin.assert:
    that: disk.failures | length == 0
    fail_msg: "{{ disk.msg }}"
"""

RETURN = r"""
outputs:
  description: One entry per command, in the order of O(commands).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The command's O(commands[].name).
      type: str
      sample: disk_usage
    namespace:
      description: Namespace of the pod.
      type: str
    pod:
      description: Name of the pod.
      type: str
    container:
      description:
        - The container the command ran in; V(null) when none was given and the pod could not be
          read.
      type: str
    command:
      description: The argument list.
      type: list
      elements: str
      sample: [df, -h, /data]
    ran:
      description: Whether the command ran (then it has RV(outputs[].rc)).
      type: bool
    stdout:
      description: Standard output (what came before the timeout, for a command that timed out).
      type: str
      returned: unless check mode left the command alone
    stdout_lines:
      description: RV(outputs[].stdout) split into lines.
      type: list
      elements: str
      returned: unless check mode left the command alone
    stderr:
      description: Standard error.
      type: str
      returned: unless check mode left the command alone
    stderr_lines:
      description: RV(outputs[].stderr) split into lines.
      type: list
      elements: str
      returned: unless check mode left the command alone
    rc:
      description: Exit code of the command.
      type: int
      returned: when the command ran
      sample: 0
    error:
      description: Why the command could not run at all.
      type: str
      returned: when the command could not run
      sample: pod nimify-system/nimify-api-0 not found
    skip_reason:
      description: Why check mode left the command alone.
      type: str
      returned: in check mode without O(read_only=true)
failures:
  description: Names of the commands that could not run.
  returned: always
  type: list
  elements: str
  sample: [log_sizes]
msg:
  description: How many commands ran, and why each that could not did not.
  returned: always
  type: str
  sample: "6 of 7 command(s) ran; log_sizes: pod nimify-system/nimify-api-0 not found"
"""

from ansible_collections.sre.runbooks.plugins.module_utils._k8s_exec import (
    CommandSpecError,
    command_specs,
    not_run_result,
    run_commands,
    summary,
)
from ansible_collections.sre.runbooks.plugins.module_utils.k8s import K8sModule

ARGUMENT_SPEC = dict(
    commands=dict(
        type="list",
        elements="dict",
        required=True,
        options=dict(
            name=dict(type="str", required=True),
            namespace=dict(type="str"),
            pod=dict(type="str", required=True),
            container=dict(type="str"),
            command=dict(type="raw", required=True),
        ),
    ),
    namespace=dict(type="str"),
    container=dict(type="str"),
    read_only=dict(type="bool", default=False),
    timeout=dict(type="float", default=60),
    workers=dict(type="int", default=4),
)


def main():
    module = K8sModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    try:
        specs = command_specs(params["commands"], params["namespace"], params["container"])
    except CommandSpecError as error:
        module.fail_json(msg=str(error))
    if module.check_mode and not params["read_only"]:
        outputs = [not_run_result(spec, "check mode, and read_only is false") for spec in specs]
    else:
        outputs = run_commands(module.client(), specs, params["workers"], params["timeout"])
    changed, failures, msg = summary(outputs, params["read_only"], module.check_mode)
    module.exit_json(changed=changed, outputs=outputs, failures=failures, msg=msg)


if __name__ == "__main__":
    main()
