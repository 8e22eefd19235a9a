package main

// demoFixtures seed the server when no -fixtures file is given.
const demoFixtures = `{
  "projects": [
    {
      "id": "1",
      "public_name": "Demo: image classification",
      "task_spec": {
        "input_spec": {"image": {"type": "url", "required": true}},
        "output_spec": {"result": {"type": "string", "required": true, "allowed_values": ["cat", "dog", "other"]}}
      }
    }
  ],
  "pools": [
    {
      "id": "1",
      "project_id": "1",
      "private_name": "smart mixing: upload tasks (POST /tasks)",
      "mixer_config": {"real_tasks_count": 5, "golden_tasks_count": 1, "training_tasks_count": 0},
      "defaults": {"default_overlap_for_new_tasks": 3, "default_overlap_for_new_task_suites": 3}
    },
    {
      "id": "2",
      "project_id": "1",
      "private_name": "no mixer: upload task suites (POST /task-suites)",
      "defaults": {"default_overlap_for_new_task_suites": 3}
    }
  ],
  "trainings": [
    {"id": "3", "project_id": "1", "private_name": "training", "training_tasks_in_task_suite_count": 2}
  ]
}
`
