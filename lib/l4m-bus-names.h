/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Names on the bus that daemon and clients share. */

#define L4M_BUS_NAME             "org.left4me.Manager"
#define L4M_MANAGER_PATH         "/org/left4me/Manager"
#define L4M_MANAGER_INTERFACE    "org.left4me.Manager"
#define L4M_OVERLAY_PATH_PREFIX  "/org/left4me/Manager/overlay"
#define L4M_OVERLAY_INTERFACE    "org.left4me.Overlay"
#define L4M_BLUEPRINT_PATH_PREFIX "/org/left4me/Manager/blueprint"
#define L4M_BLUEPRINT_INTERFACE  "org.left4me.Blueprint"
#define L4M_JOB_PATH_PREFIX      "/org/left4me/Manager/job"
#define L4M_INSTANCE_PATH_PREFIX "/org/left4me/Manager/instance"
#define L4M_INSTANCE_INTERFACE   "org.left4me.Instance"
#define L4M_JOB_INTERFACE        "org.left4me.Job"
#define L4M_SCHEDULE_PATH_PREFIX "/org/left4me/Manager/schedule"
#define L4M_SCHEDULE_INTERFACE   "org.left4me.Schedule"

#define L4M_ERROR_NOT_FOUND        "org.left4me.Error.NotFound"
#define L4M_ERROR_EXISTS           "org.left4me.Error.Exists"
#define L4M_ERROR_INVALID_ARGUMENT "org.left4me.Error.InvalidArgument"
#define L4M_ERROR_BUSY             "org.left4me.Error.Busy"
#define L4M_ERROR_FAILED           "org.left4me.Error.Failed"

/* polkit action ids */
#define L4M_ACTION_READ             "org.left4me.read"
#define L4M_ACTION_OVERLAY_MANAGE   "org.left4me.overlay.manage"
#define L4M_ACTION_SCRIPT_RUN       "org.left4me.script.run"
#define L4M_ACTION_BLUEPRINT_MANAGE "org.left4me.blueprint.manage"
#define L4M_ACTION_INSTANCE_MANAGE  "org.left4me.instance.manage"
#define L4M_ACTION_INSTANCE_CONTROL "org.left4me.instance.control"
#define L4M_ACTION_GAME_INSTALL     "org.left4me.game.install"
#define L4M_ACTION_ADMIN            "org.left4me.admin"
#define L4M_ACTION_DELEGATE         "org.left4me.delegate"
